package analysis

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/wire"
)

// mainnetFile holds (height, time, bits) of the real mainnet blocks 0..14131,
// extracted from btcd's blockchain/testdata/blk_0_to_14131.dat by
//
//	go test ./analysis -run TestRegenerateMainnetHeaders -regen-mainnet
const mainnetFile = "testdata/mainnet-0-14131.txt.gz"

var regenMainnet = flag.Bool("regen-mainnet", false,
	"rewrite "+mainnetFile+" from btcd's test blocks")

// TestRegenerateMainnetHeaders rewrites the mainnet fixture when asked to.
func TestRegenerateMainnetHeaders(t *testing.T) {
	if !*regenMainnet {
		t.Skip("pass -regen-mainnet to rewrite " + mainnetFile)
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}",
		"github.com/btcsuite/btcd").Output()
	if err != nil {
		t.Fatalf("locate btcd: %v", err)
	}
	src := filepath.Join(strings.TrimSpace(string(out)),
		"blockchain", "testdata", "blk_0_to_14131.dat")
	headers, last, err := readBlockFile(src)
	if err != nil {
		t.Fatal(err)
	}

	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	fmt.Fprintf(zw, "# mainnet blocks 0..%d from btcd v0.24.2 "+
		"blockchain/testdata/blk_0_to_14131.dat; last hash %s\n",
		len(headers)-1, last)
	fmt.Fprintln(zw, "# height unix-time bits")
	for _, h := range headers {
		fmt.Fprintf(zw, "%d %d %08x\n", h.Height, h.Time, h.Bits)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mainnetFile, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readBlockFile reads btcd's test block file: records of network magic,
// length and a serialized block, in height order from genesis, then zero
// padding. Blocks at btcd's mainnet checkpoints must match them.
func readBlockFile(path string) ([]Header, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()

	r := bufio.NewReader(f)
	var headers []Header
	var last string
	for height := int32(0); ; height++ {
		var rec [8]byte
		if _, err := io.ReadFull(r, rec[:]); err == io.EOF {
			return headers, last, nil
		} else if err != nil {
			return nil, "", fmt.Errorf("record %d: %w", height, err)
		}
		switch binary.LittleEndian.Uint32(rec[:4]) {
		case uint32(wire.MainNet):
		case 0:
			// The file is zero-padded to 16 MiB after the last block.
			return headers, last, nil
		default:
			return nil, "", fmt.Errorf("record %d: bad magic", height)
		}
		block := make([]byte, binary.LittleEndian.Uint32(rec[4:]))
		if _, err := io.ReadFull(r, block); err != nil {
			return nil, "", fmt.Errorf("record %d: %w", height, err)
		}
		var hdr wire.BlockHeader
		if err := hdr.Deserialize(bytes.NewReader(block)); err != nil {
			return nil, "", fmt.Errorf("record %d: %w", height, err)
		}
		headers = append(headers, Header{Height: height,
			Time: hdr.Timestamp.Unix(), Bits: hdr.Bits})
		hash := hdr.BlockHash()
		last = hash.String()
		for _, c := range chaincfg.MainNetParams.Checkpoints {
			if c.Height == height && *c.Hash != hash {
				return nil, "", fmt.Errorf("block %d is %v, not "+
					"checkpoint %v", height, hash, c.Hash)
			}
		}
	}
}

var (
	mainnetOnce    sync.Once
	mainnetHeaders []Header
	mainnetErr     error
)

// loadMainnet returns the real mainnet headers 0..14131. Callers must not
// modify them.
func loadMainnet(t testing.TB) []Header {
	t.Helper()
	mainnetOnce.Do(func() {
		mainnetHeaders, mainnetErr = parseMainnet(mainnetFile)
	})
	if mainnetErr != nil {
		t.Fatalf("load %s: %v", mainnetFile, mainnetErr)
	}
	return mainnetHeaders
}

// parseMainnet reads the fixture written by TestRegenerateMainnetHeaders.
func parseMainnet(path string) ([]Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}

	var hs []Header
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		var h Header
		if _, err := fmt.Sscanf(line, "%d %d %x", &h.Height, &h.Time,
			&h.Bits); err != nil {
			return nil, fmt.Errorf("line %q: %w", line, err)
		}
		if h.Height != int32(len(hs)) {
			return nil, fmt.Errorf("line %q: height out of order", line)
		}
		hs = append(hs, h)
	}
	return hs, sc.Err()
}

// TestMainnetFixture checks the fixture against facts known independently
// of it: its size and btcd's genesis block.
func TestMainnetFixture(t *testing.T) {
	hs := loadMainnet(t)
	if len(hs) != 14132 {
		t.Fatalf("got %d headers, want 14132", len(hs))
	}
	g := chaincfg.MainNetParams.GenesisBlock.Header
	if hs[0].Time != g.Timestamp.Unix() || hs[0].Bits != g.Bits {
		t.Fatalf("genesis = %+v, want time %d bits %08x", hs[0],
			g.Timestamp.Unix(), g.Bits)
	}
}
