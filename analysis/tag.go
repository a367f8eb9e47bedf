package analysis

import (
	"bytes"
	"encoding/binary"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/btcsuite/btcd/txscript"
)

// minTagRun is the fewest characters a printable run needs to count as text.
const minTagRun = 3

// maxNumberPush is the longest push CoinbaseTag takes for a number rather
// than text: a BIP34 height (a script number, at most four bytes for an
// int32 height), a timestamp or a nonce.
const maxNumberPush = 4

// mergedMiningMagic opens a merged-mining commitment (0xfabe 'mm'); the
// 32-byte hash after it is random bytes, not text.
var mergedMiningMagic = []byte{0xfa, 0xbe, 0x6d, 0x6d}

// mergedMiningSkip is how many bytes from the magic on are never text.
const mergedMiningSkip = 4 + 32

// CoinbaseTag returns the printable text of a coinbase scriptSig, the
// "/Foundry USA Pool #dropgold/" or "Mined by AntPool" that pools write
// there. It is deterministic and never longer than scriptSig.
//
// The scriptSig is read as a sequence of data pushes for as long as it
// parses as one. Push opcodes and length bytes are never text, and neither
// are pushes of at most four bytes: they hold numbers, such as the BIP34
// height that opens every coinbase and the timestamps many pools push
// after it. From the first byte that is not a complete push (many pools
// write their text raw), the rest is read as raw bytes. In each piece, a
// merged-mining magic 0xfabe6d6d and the 32-byte hash after it are
// skipped. What remains is split into maximal runs of printable characters
// (ASCII or valid UTF-8 with unicode.IsPrint, never U+FFFD); each run is
// trimmed of spaces and kept if it still has at least three characters;
// the runs are joined by single spaces.
//
// Random bytes (extranonces, hashes) still make an occasional short run,
// as in "/Foundry USA Pool #dropgold/#DV =ao"; matching pools by tag
// also searches the raw scriptSig, so a tag these rules cut is still found.
func CoinbaseTag(scriptSig []byte) string {
	var runs []string
	for _, piece := range tagPieces(scriptSig) {
		runs = appendTextRuns(runs, piece)
	}
	return strings.Join(runs, " ")
}

// tagPieces splits scriptSig into the byte strings that may hold text: the
// data of its leading pushes, except numbers, then the raw rest.
func tagPieces(scriptSig []byte) [][]byte {
	var pieces [][]byte
	for i := 0; i < len(scriptSig); {
		data, next, ok := readPush(scriptSig, i)
		if !ok {
			return append(pieces, scriptSig[i:])
		}
		if len(data) > maxNumberPush {
			pieces = append(pieces, data)
		}
		i = next
	}
	return pieces
}

// readPush decodes the push opcode at s[i]: its data (nil for OP_0,
// OP_1NEGATE and OP_1..OP_16) and the offset after it. ok is false when
// s[i] is not a push or its data runs past the end of s.
func readPush(s []byte, i int) (data []byte, next int, ok bool) {
	op := s[i]
	start, n := i+1, 0
	switch {
	case op == txscript.OP_0 || op == txscript.OP_1NEGATE ||
		(op >= txscript.OP_1 && op <= txscript.OP_16):
		return nil, i + 1, true

	case op <= txscript.OP_DATA_75:
		n = int(op)

	case op == txscript.OP_PUSHDATA1 && len(s)-start >= 1:
		n, start = int(s[start]), start+1

	case op == txscript.OP_PUSHDATA2 && len(s)-start >= 2:
		n, start = int(binary.LittleEndian.Uint16(s[start:])), start+2

	case op == txscript.OP_PUSHDATA4 && len(s)-start >= 4:
		n4 := binary.LittleEndian.Uint32(s[start:])
		if uint64(n4) > uint64(len(s)) {
			return nil, 0, false
		}
		n, start = int(n4), start+4

	default:
		return nil, 0, false
	}
	if n > len(s)-start {
		return nil, 0, false
	}
	return s[start : start+n], start + n, true
}

// appendTextRuns appends the text runs of piece to runs, skipping
// merged-mining commitments.
func appendTextRuns(runs []string, piece []byte) []string {
	for {
		j := bytes.Index(piece, mergedMiningMagic)
		if j < 0 {
			return appendPrintable(runs, piece)
		}
		runs = appendPrintable(runs, piece[:j])
		piece = piece[min(len(piece), j+mergedMiningSkip):]
	}
}

// appendPrintable appends to runs each maximal run of printable characters
// in b that has at least minTagRun characters once trimmed of spaces.
func appendPrintable(runs []string, b []byte) []string {
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		run := strings.Trim(string(b[start:end]), " ")
		if utf8.RuneCountInString(run) >= minTagRun {
			runs = append(runs, run)
		}
		start = -1
	}

	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		printable := r != utf8.RuneError && unicode.IsPrint(r)
		switch {
		case printable && start < 0:
			start = i
		case !printable:
			flush(i)
		}
		i += size
	}
	flush(len(b))
	return runs
}
