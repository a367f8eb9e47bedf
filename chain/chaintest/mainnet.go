package chaintest

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/wire"
)

const (
	// MainnetTipHeight is the height of the last block in btcd's
	// blk_0_to_14131.dat test file.
	MainnetTipHeight = 14131

	// mainnetBlocksFile is the test data file inside the btcd module.
	mainnetBlocksFile = "blockchain/testdata/blk_0_to_14131.dat"
)

// ErrBadBlockFile is returned when the mainnet block file is not a sequence
// of mainnet block records.
var ErrBadBlockFile = errors.New("chaintest: malformed block file")

// MainnetBlocksPath returns the path of btcd's blk_0_to_14131.dat, which
// holds mainnet blocks 0-14131 as [magic][length][block] records followed by
// zero padding.
func MainnetBlocksPath(ctx context.Context) (string, error) {
	tools, err := BuildTools(ctx, nil)
	if err != nil {
		return "", err
	}
	return filepath.Join(tools.ModuleDir, filepath.FromSlash(mainnetBlocksFile)), nil
}

// ImportMainnet imports mainnet blocks 0-14131 into the btcd data directory
// dataDir with addblock. logf may be nil.
func ImportMainnet(ctx context.Context, dataDir string,
	logf func(string, ...any)) error {

	logf = orDiscard(logf)
	tools, err := BuildTools(ctx, logf)
	if err != nil {
		return err
	}
	src := filepath.Join(tools.ModuleDir, filepath.FromSlash(mainnetBlocksFile))

	// addblock stops with an error at the zero padding, so hand it only
	// the block records.
	trimmed, err := os.CreateTemp("", "chaintest-blocks-*.dat")
	if err != nil {
		return fmt.Errorf("chaintest: %w", err)
	}
	defer os.Remove(trimmed.Name())
	n, err := copyBlockRecords(trimmed, src, MainnetTipHeight+1)
	if cerr := trimmed.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}

	begin := time.Now()
	cmd := exec.CommandContext(ctx, tools.Addblock, "-b", dataDir,
		"-i", trimmed.Name(), "-p", "0", "--txindex")
	cmd.Env = append(os.Environ(), "HOME="+dataDir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("chaintest: addblock %s: %w\n%s", src, err,
			tail(string(out)))
	}
	logf("imported %d mainnet blocks into %s in %v", n, dataDir,
		time.Since(begin).Round(time.Millisecond))
	return nil
}

// copyBlockRecords copies the first want block records of the file src to
// w and returns how many it copied; fewer than want is an error.
func copyBlockRecords(w io.Writer, src string, want int) (int, error) {
	f, err := os.Open(src)
	if err != nil {
		return 0, fmt.Errorf("chaintest: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	bw := bufio.NewWriterSize(w, 1<<20)

	var hdr [8]byte
	for i := range want {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return i, fmt.Errorf("%w: %s: record %d: %w",
				ErrBadBlockFile, src, i, err)
		}
		magic := wire.BitcoinNet(binary.LittleEndian.Uint32(hdr[:4]))
		size := binary.LittleEndian.Uint32(hdr[4:])
		if magic != wire.MainNet || size > wire.MaxBlockPayload {
			return i, fmt.Errorf("%w: %s: record %d has magic %v, "+
				"length %d", ErrBadBlockFile, src, i, magic, size)
		}
		if _, err := bw.Write(hdr[:]); err != nil {
			return i, fmt.Errorf("chaintest: %w", err)
		}
		if _, err := io.CopyN(bw, r, int64(size)); err != nil {
			return i, fmt.Errorf("%w: %s: record %d: %w",
				ErrBadBlockFile, src, i, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return want, fmt.Errorf("chaintest: %w", err)
	}
	return want, nil
}

var (
	templateMu  sync.Mutex
	templateDir string
)

// MainnetTemplate returns a btcd data directory holding mainnet blocks
// 0-14131. It is imported once per user and btcd version into the user cache
// directory and must not be modified or run directly: copy it with
// CopyDataDir. logf may be nil.
func MainnetTemplate(ctx context.Context, logf func(string, ...any)) (string, error) {
	templateMu.Lock()
	defer templateMu.Unlock()
	if templateDir != "" {
		return templateDir, nil
	}

	logf = orDiscard(logf)
	tools, err := BuildTools(ctx, logf)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(filepath.Dir(tools.Btcd),
		fmt.Sprintf("mainnet-0-%d-txindex", MainnetTipHeight))
	if _, err := os.Stat(dir); err == nil {
		templateDir = dir
		return dir, nil
	}

	// Import into a private directory and rename it into place, so
	// concurrent test binaries never see a half-imported template.
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "import-")
	if err != nil {
		return "", fmt.Errorf("chaintest: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := ImportMainnet(ctx, tmp, logf); err != nil {
		return "", err
	}
	if err := warmDataDir(ctx, tmp, logf); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another process won the race; its template is as good.
		if _, serr := os.Stat(dir); serr != nil {
			return "", fmt.Errorf("chaintest: install template: %w", err)
		}
	}
	templateDir = dir
	return dir, nil
}

// warmDataDir runs btcd once on the freshly imported dataDir, so that every
// node started from a copy finds its indexes built, then removes the files
// that belong to one node rather than to the chain.
func warmDataDir(ctx context.Context, dataDir string,
	logf func(string, ...any)) error {

	n, err := Start(ctx, Options{
		Net:     &chaincfg.MainNetParams,
		DataDir: dataDir,
		Logf:    logf,
	})
	if err != nil {
		return err
	}
	if err := n.Stop(); err != nil {
		return err
	}
	for _, p := range []string{n.logDir(), n.homeDir(), n.confPath(),
		n.OutputPath(), filepath.Join(dataDir, "mainnet", "peers.json")} {

		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("chaintest: %w", err)
		}
	}
	return nil
}

// CopyDataDir copies the btcd data directory src into dst, which is created
// if needed.
func CopyDataDir(dst, src string) error {
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o700)
		case d.Type().IsRegular():
			return copyFile(target, path)
		}
		return fmt.Errorf("chaintest: %s is not a regular file", path)
	})
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// tail returns the last lines of s, at most logTailBytes long.
func tail(s string) string {
	if len(s) <= logTailBytes {
		return s
	}
	s = s[len(s)-logTailBytes:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}
