package chain

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// The fuzz targets here cover every parser of data that comes from outside
// the process: the node's blocks (raw, as getblock hex and over REST), its
// REST headers, bitcoin.conf, the cookie file and the blk files' XOR key.
// Their seeds are in testdata/fuzz/<target>: real mainnet blocks and headers
// from btcd's test data, replies in the shapes bitcoind and btcd send, and a
// typical bitcoin.conf and cookie. None may panic; what they accept must be
// exactly what an independent reading of the same bytes gives.

// replyTransport answers every HTTP request with one status and body, so that
// the client's real request path parses fuzzed replies without a network.
type replyTransport struct {
	status int
	body   []byte
}

func (rt replyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	return &http.Response{
		StatusCode:    rt.status,
		Header:        http.Header{},
		Body:          io.NopCloser(bytes.NewReader(rt.body)),
		ContentLength: int64(len(rt.body)),
		Request:       req,
	}, nil
}

// fuzzClient returns a client whose requests all get status and body, and
// which never retries.
func fuzzClient(t *testing.T, status int, body []byte) *Client {
	t.Helper()
	c, err := newClient(Config{Host: "127.0.0.1:8332", User: "u", Pass: "p", RetryFor: -1})
	if err != nil {
		t.Fatal(err)
	}
	c.http = &http.Client{Transport: replyTransport{status: status, body: body}}
	return c
}

// fuzzStatuses are the HTTP statuses a fuzzed reply comes with: OK, and the
// ones the client treats specially.
var fuzzStatuses = []int{http.StatusOK, http.StatusNotFound, http.StatusServiceUnavailable,
	http.StatusInternalServerError, http.StatusUnauthorized}

// wantHash is the hash a fuzzed block or header must have: its own header's
// when fromHeader is set and there is one (so that the fuzzer can reach
// accepted inputs), else the fuzzed bytes.
func wantHash(data []byte, fromHeader bool, hash []byte) chainhash.Hash {
	if fromHeader && len(data) >= wire.MaxBlockHeaderPayload {
		return chainhash.DoubleHashH(data[:wire.MaxBlockHeaderPayload])
	}
	var h chainhash.Hash
	copy(h[:], hash)
	return h
}

// checkAcceptedBlock fails unless blk, decoded from raw and accepted as the
// block with hash want, is exactly raw: it serializes back to raw, hashes to
// want, its merkle root is btcd's for its transactions, and ids (when not
// nil) are btcd's txids.
func checkAcceptedBlock(t *testing.T, raw []byte, blk *wire.MsgBlock, ids []chainhash.Hash, want chainhash.Hash) {
	t.Helper()
	var buf bytes.Buffer
	if err := blk.Serialize(&buf); err != nil {
		t.Fatalf("accepted block does not serialize: %v", err)
	}
	if !bytes.Equal(buf.Bytes(), raw) {
		t.Fatalf("accepted block serializes to %d other bytes than its %d", buf.Len(), len(raw))
	}
	if got := blk.BlockHash(); got != want {
		t.Fatalf("accepted block hashes to %v, want %v", got, want)
	}
	txs := make([]*btcutil.Tx, len(blk.Transactions))
	for i, tx := range blk.Transactions {
		txs[i] = btcutil.NewTx(tx)
	}
	if root := blockchain.CalcMerkleRoot(txs, false); root != blk.Header.MerkleRoot {
		t.Fatalf("accepted block: btcd's merkle root %v, header's %v", root, blk.Header.MerkleRoot)
	}
	if ids == nil {
		return
	}
	if len(ids) != len(blk.Transactions) {
		t.Fatalf("%d txids for %d transactions", len(ids), len(blk.Transactions))
	}
	for i, tx := range blk.Transactions {
		if ids[i] != tx.TxHash() {
			t.Fatalf("transaction %d: txid %v, btcd's %v", i, ids[i], tx.TxHash())
		}
	}
}

// FuzzDecodeBlock: DecodeBlock never panics; it refuses with a
// *BadBlockError naming the block, or accepts a block that is exactly the
// bytes given and hashes to the hash given, with the merkle root and txids
// btcd computes. Seeds: real mainnet blocks, real segwit transactions in a
// block of their own, and a block with its last transaction repeated
// (CVE-2012-2459).
func FuzzDecodeBlock(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw []byte, height int32, fromHeader bool, hash []byte) {
		want := wantHash(raw, fromHeader, hash)
		blk, err := DecodeBlock(raw, height, want)
		if err != nil {
			var bad *BadBlockError
			if !errors.As(err, &bad) || !errors.Is(err, ErrBadBlock) || bad.Height != height || bad.Hash != want {
				t.Fatalf("error %v is not a BadBlockError for height %d hash %v", err, height, want)
			}
			if blk != nil {
				t.Fatal("a block with an error")
			}
			return
		}
		_, ids, _ := checkBlock(raw, want)
		checkAcceptedBlock(t, raw, blk, ids, want)
	})
}

// refHexResults reads a getblock batch reply with encoding/json and returns
// each reply's result string by id, for replies whose result is a string.
func refHexResults(reply []byte) (map[uint64]string, bool) {
	var replies []struct {
		Result json.RawMessage `json:"result"`
		ID     json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(reply, &replies); err != nil {
		return nil, false
	}
	results := make(map[uint64]string)
	for _, r := range replies {
		id, err := strconv.ParseUint(string(r.ID), 10, 64)
		var s string
		if err == nil && json.Unmarshal(r.Result, &s) == nil {
			results[id] = s
		}
	}
	return results, true
}

// FuzzRPCBlockHex feeds a getblock batch reply to the RPC block source's
// request path (HTTP status check, the fast hex scanner with its
// encoding/json fallback, hex decoding). It must not panic, and every block
// it returns, also before an error, must be hex.DecodeString of the result
// string that encoding/json reads for that request's id. The scanner is
// more lenient than encoding/json where it reads nothing it returns (a raw
// control character in a string, an id with leading zeros); from such a
// reply each block must still be a whole quoted string of it, decoded.
// Seeds: the replies bitcoind and btcd send for real blocks, in order,
// reversed and with an error item, and those leniencies.
func FuzzRPCBlockHex(f *testing.F) {
	f.Fuzz(func(t *testing.T, reply []byte, n uint8) {
		hashes := make([]chainhash.Hash, 1+int(n)%4)
		for i := range hashes {
			hashes[i][0] = byte(i)
		}
		c := fuzzClient(t, http.StatusOK, reply)
		blocks, err := c.rawBlocks(context.Background(), 0, hashes)
		if len(blocks) > len(hashes) {
			t.Fatalf("%d blocks for %d hashes", len(blocks), len(hashes))
		}
		if err == nil && len(blocks) != len(hashes) {
			t.Fatalf("%d blocks for %d hashes and no error", len(blocks), len(hashes))
		}
		if len(blocks) == 0 {
			return
		}
		ref, ok := refHexResults(reply)
		if !ok {
			lower := bytes.ToLower(reply)
			for i, b := range blocks {
				if !bytes.Contains(lower, []byte(`"`+hex.EncodeToString(b)+`"`)) {
					t.Fatalf("block %d (%x) is no string of the reply %q", i, b, reply)
				}
			}
			return
		}
		for i, b := range blocks {
			// Ids count from 1 on a new client.
			s, found := ref[uint64(i)+1]
			want, err := hex.DecodeString(s)
			if !found || err != nil || !bytes.Equal(b, want) {
				t.Fatalf("block %d is %x; encoding/json reads result %q (found %v), hex %v", i, b, s, found, err)
			}
		}
	})
}

// FuzzRESTHeaders: the /rest/headers reply is checked whole (a multiple of
// 80 bytes, at most count headers, starting at the block asked for), never
// panics, and what is accepted serializes back to the reply. Seeds: real
// mainnet headers, an empty reply (a hash past the tip), bitcoind's 404 text.
func FuzzRESTHeaders(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, status uint8, count uint16, fromHeader bool, start []byte) {
		want := wantHash(data, fromHeader, start)
		c := fuzzClient(t, fuzzStatuses[int(status)%len(fuzzStatuses)], data)
		headers, err := c.RESTHeaders(context.Background(), want, int(count))
		if err != nil {
			if headers != nil {
				t.Fatal("headers with an error")
			}
			return
		}
		if limit := min(max(int(count), 1), MaxRESTHeaders); len(headers) > limit {
			t.Fatalf("%d headers for count %d", len(headers), count)
		}
		var buf bytes.Buffer
		for i := range headers {
			if err := headers[i].Serialize(&buf); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(buf.Bytes(), data) {
			t.Fatalf("%d headers serialize to other bytes than the %d-byte reply", len(headers), len(data))
		}
		if len(headers) > 0 && headers[0].BlockHash() != want {
			t.Fatalf("headers start at %v, asked for %v", headers[0].BlockHash(), want)
		}
	})
}

// FuzzRESTBlock feeds a /rest/block/<hash>.bin reply through the REST block
// source and the checks every source shares. It must not panic; a block it
// delivers is the reply's bytes, hashes to the hash asked for and has btcd's
// merkle root and txids. Seeds: real mainnet blocks, bitcoind's 404 and 503
// texts.
func FuzzRESTBlock(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, status uint8, fromHeader bool, hash []byte) {
		want := wantHash(data, fromHeader, hash)
		c := fuzzClient(t, fuzzStatuses[int(status)%len(fuzzStatuses)], data)
		src := NewRESTBlockSource(c, 1)
		blocks, err := fetchChecked(context.Background(), src, 7, []chainhash.Hash{want})
		if len(blocks) > 1 || (err == nil) != (len(blocks) == 1) {
			t.Fatalf("%d blocks, error %v", len(blocks), err)
		}
		var bad *BadBlockError
		if errors.As(err, &bad) && (bad.Height != 7 || bad.Hash != want) {
			t.Fatalf("bad block error names height %d hash %v, want 7 %v", bad.Height, bad.Hash, want)
		}
		if len(blocks) == 0 {
			return
		}
		// A node without REST (404) has the block fetched over JSON-RPC,
		// which here gets the same reply.
		raw := data
		if src.rpcOnly.Load() {
			ref, _ := refHexResults(data)
			raw, _ = hex.DecodeString(ref[1])
		}
		b := blocks[0]
		if b.Height != 7 || b.Hash != want || !bytes.Equal(b.Bytes, raw) {
			t.Fatalf("delivered height %d hash %v, %d bytes; want 7 %v, the %d bytes of the reply",
				b.Height, b.Hash, len(b.Bytes), want, len(raw))
		}
		checkAcceptedBlock(t, raw, b.Block, b.TxIDs, want)
	})
}

// confEntry is one value of a parsed bitcoin.conf, without its location.
type confEntry struct {
	section, key, value string
	negated             bool
	line                int
}

// confEntries lists conf's values in file order.
func confEntries(conf *bitcoinConf) []confEntry {
	var es []confEntry
	for section, keys := range conf.sections {
		for key, vs := range keys {
			for _, v := range vs {
				es = append(es, confEntry{section, key, v.value, v.negated, v.line})
			}
		}
	}
	// One entry per line: the line orders them.
	slices.SortFunc(es, func(a, b confEntry) int { return a.line - b.line })
	return es
}

// render writes e as a top-level "section.key=value" line; a top-level key
// holding a dot (from a "[.]" or "[]" section) is written ".key".
func (e confEntry) render() string {
	name := e.key
	if e.negated {
		name = "no" + name
	}
	if e.section != "" || strings.Contains(e.key, ".") {
		name = e.section + "." + name
	}
	return name + "=" + e.value
}

// FuzzBitcoinConf: parsing bitcoin.conf never panics and refuses only with
// ErrBadConfig (or a line too long to read); the values it keeps are trimmed
// and comment-free; written back as top-level "section.key=value" lines
// (when every one can be: a [ section ] with spaces or "=" cannot) they
// parse to the same values in the same order, and resolve, read from a
// datadir with an included file, to the same node address, network and
// credentials. Seeds: a typical bitcoin.conf with sections, an include,
// negations and comments; Core's errors; the corner cases fuzzing found.
func FuzzBitcoinConf(f *testing.F) {
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text, included string) {
		conf := newBitcoinConf()
		if err := conf.parse(strings.NewReader(text), "bitcoin.conf"); err != nil {
			if !errors.Is(err, ErrBadConfig) && !strings.Contains(err.Error(), "token too long") {
				t.Fatalf("error %v is not ErrBadConfig", err)
			}
			return
		}
		entries := confEntries(conf)
		var rendered []string
		for _, e := range entries {
			if strings.ContainsAny(e.value, "#\n") || strings.ContainsAny(e.section+e.key, "#\n") ||
				e.value != strings.Trim(e.value, " \t\r\n") {
				t.Fatalf("kept %+v: not trimmed or holds a comment", e)
			}
			line := e.render()
			if strings.HasPrefix(line, "-") || strings.HasPrefix(line, "[") ||
				line != strings.Trim(line, " \t\r\n") || strings.Contains(e.section+e.key, "=") {
				// Not expressible as a top-level line: a section or key
				// from a [ header ] with spaces or "=", or "[" or "-"
				// first.
				return
			}
			rendered = append(rendered, line)
		}
		again := newBitcoinConf()
		if err := again.parse(strings.NewReader(strings.Join(rendered, "\n")), "bitcoin.conf"); err != nil {
			t.Fatalf("written back, %q does not parse: %v", rendered, err)
		}
		got := confEntries(again)
		for i := range got {
			got[i].line = entries[i].line
		}
		if !reflect.DeepEqual(got, entries) {
			t.Fatalf("written back as %q, %+v parse as %+v", rendered, entries, got)
		}
		resolveFuzzConf(t, dir, text, included, strings.Join(rendered, "\n"))
	})
}

// resolveFuzzConf resolves the configuration of datadir dir holding text as
// bitcoin.conf and included as inc.conf, then with rendered instead: both
// must give the same Config, with a port. Includes with a path are
// not followed (they could name any file on the machine).
func resolveFuzzConf(t *testing.T, dir, text, included, rendered string) {
	t.Helper()
	if strings.Contains(text, "includeconf") && strings.ContainsAny(text, `/\`) {
		return
	}
	resolve := func(conf string) (Config, error) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "bitcoin.conf"), []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		return ResolveConfig(Config{BitcoinDir: dir}, nil)
	}
	if err := os.WriteFile(filepath.Join(dir, "inc.conf"), []byte(included), 0o600); err != nil {
		t.Fatal(err)
	}
	first, err1 := resolve(text)
	second, err2 := resolve(rendered)
	if (err1 == nil) != (err2 == nil) {
		t.Fatalf("resolving the file gives %v, written back %v", err1, err2)
	}
	if err1 != nil {
		return
	}
	if !reflect.DeepEqual(first, second) {
		t.Fatalf("resolving the file gives %+v, written back %+v", first, second)
	}
	// The port is checked; a host name is left for the dial to refuse.
	i := strings.LastIndexByte(first.Host, ':')
	if n, err := strconv.Atoi(first.Host[i+1:]); i <= 0 || err != nil || n < 1 || n > 65535 {
		t.Fatalf("resolved address %q has no host and port", first.Host)
	}
	if _, ok := layouts[first.Network]; first.Network != "" && !ok {
		t.Fatalf("resolved network %q", first.Network)
	}
}

// FuzzReadCookie: a cookie file is read as its first line's user:password
// or refused with ErrNoCredentials, never a panic; what is read, written
// back as "user:password\n", reads the same. Seeds: bitcoind's cookie, one
// without newline, a password with colons, garbage.
func FuzzReadCookie(f *testing.F) {
	path := filepath.Join(f.TempDir(), ".cookie") // one worker runs one input at a time
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		user, pass, err := readCookie(path)
		if err != nil {
			if !errors.Is(err, ErrNoCredentials) {
				t.Fatalf("error %v is not ErrNoCredentials", err)
			}
			return
		}
		first, _, _ := strings.Cut(string(data), "\n")
		if strings.Contains(user, ":") || user+":"+pass != strings.TrimSpace(first) {
			t.Fatalf("read %q:%q from first line %q", user, pass, first)
		}
		if err := os.WriteFile(path, []byte(user+":"+pass+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		u2, p2, err := readCookie(path)
		if err != nil || u2 != user || p2 != pass {
			t.Fatalf("written back, %q:%q reads as %q:%q, %v", user, pass, u2, p2, err)
		}
	})
}

// FuzzReadXORKey: xor.dat is the 8-byte key itself or refused, never
// misread.
func FuzzReadXORKey(f *testing.F) {
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, "xor.dat"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		key, err := readXORKey(dir)
		switch {
		case len(data) == xorKeySize && (err != nil || !bytes.Equal(key[:], data)):
			t.Fatalf("key %x read as %x, %v", data, key, err)
		case len(data) != xorKeySize && err == nil:
			t.Fatalf("%d bytes accepted as key %x", len(data), key)
		}
	})
}
