package chain

import (
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

// Sentinel errors. The errors the client returns wrap one of these with the
// failing address, method or height, so callers test them with errors.Is and
// users read one sentence saying what to do.
var (
	// ErrAuth means the node answered HTTP 401 or 403: wrong user and
	// password, a stale cookie, or an rpcwhitelist denial.
	ErrAuth = errors.New("the node refused the RPC credentials")

	// ErrBadConfig marks a bitcoin.conf that Bitcoin Core itself would
	// refuse, or one that contradicts the configured network.
	ErrBadConfig = errors.New("invalid bitcoin.conf")

	// ErrNoCredentials means no password was given and the cookie file
	// could not be read.
	ErrNoCredentials = errors.New("no RPC credentials")

	// ErrUnreachable means no HTTP reply came back: connection refused,
	// reset, timed out or dropped mid-reply.
	ErrUnreachable = errors.New("cannot reach the node's RPC server")

	// ErrWarmingUp is bitcoind's RPC error -28: the node is still loading.
	ErrWarmingUp = errors.New("the node is still starting up")

	// ErrBusy means the node answered HTTP 503: bitcoind's RPC work queue
	// is full or it is shutting down, or btcd has too many clients.
	ErrBusy = errors.New("the node's RPC server is busy")

	// ErrProtocol means the reply was not JSON-RPC.
	ErrProtocol = errors.New("the node's reply is not JSON-RPC")

	// ErrUnknownNetwork means the node's genesis block is not one of the
	// networks minerscope knows.
	ErrUnknownNetwork = errors.New("the node is on an unknown network")

	// ErrWrongNetwork means the node's network differs from the configured
	// one.
	ErrWrongNetwork = errors.New("the node is on a different network than configured")

	// ErrHeightOutOfRange means a height is above the node's best chain
	// (getblockhash error -8 on bitcoind, -1 on btcd).
	ErrHeightOutOfRange = errors.New("height is above the node's best chain")

	// ErrBlockNotFound means the node does not know a block hash (RPC error
	// -5), typically because it was reorganised away meanwhile.
	ErrBlockNotFound = errors.New("the node does not know the block")

	// ErrBadHeader marks every *BadHeaderError.
	ErrBadHeader = errors.New("node served an invalid header")

	// ErrPrevMismatch is a BadHeaderError kind: the header does not link to
	// the previous one, which after a reorg on the node is expected.
	ErrPrevMismatch = errors.New("header does not connect to the previous header")

	// ErrHashMismatch is a BadHeaderError kind: the header does not hash
	// to the hash the node gave for its height.
	ErrHashMismatch = errors.New("header does not hash to the requested hash")

	// ErrBadProofOfWork is a BadHeaderError kind: target out of range or
	// hash above target.
	ErrBadProofOfWork = errors.New("header has invalid proof of work")

	// ErrBadBits is a BadHeaderError kind: bits differ from what the
	// difficulty rule requires.
	ErrBadBits = errors.New("header has unexpected difficulty bits")

	// ErrBadGenesis is a BadHeaderError kind: block 0 is not the network's
	// genesis block.
	ErrBadGenesis = errors.New("block 0 is not the network's genesis block")

	// ErrBadBlock marks every *BadBlockError: a block source delivered a
	// block that is not the one requested or whose transactions do not
	// match its header.
	ErrBadBlock = errors.New("block source delivered an invalid block")

	// ErrPruned marks every *PrunedError: the node no longer has the
	// requested blocks.
	ErrPruned = errors.New("the node has pruned the requested blocks")
)

// RPC error codes minerscope reacts to; bitcoind's values, shared by btcd.
const (
	codeMisc             = -1  // btcd: getblockhash out of range
	codeBlockNotFound    = -5  // RPC_INVALID_ADDRESS_OR_KEY
	codeNoTx             = -5  // getrawtransaction without a transaction index
	codeInvalidParameter = -8  // bitcoind: getblockhash out of range
	codeWarmingUp        = -28 // RPC_IN_WARMUP
)

// RPCError is an error the node returned inside a JSON-RPC reply. It matches
// ErrWarmingUp, ErrHeightOutOfRange and ErrBlockNotFound by code and method.
type RPCError struct {
	Method  string
	Code    int
	Message string
}

// Error gives the node's own message with the method and code.
func (e *RPCError) Error() string {
	return fmt.Sprintf("the node rejected %s: %s (RPC error %d)",
		e.Method, e.Message, e.Code)
}

// Is lets errors.Is classify the node's error codes.
func (e *RPCError) Is(target error) bool {
	switch target {
	case ErrWarmingUp:
		return e.Code == codeWarmingUp
	case ErrHeightOutOfRange:
		return e.Method == "getblockhash" &&
			(e.Code == codeInvalidParameter || e.Code == codeMisc)
	case ErrBlockNotFound:
		return e.Code == codeBlockNotFound
	}
	return false
}

// BatchItemError reports which request of a batch failed first.
type BatchItemError struct {
	Index int
	Err   error
}

// Error names the failing item.
func (e *BatchItemError) Error() string {
	return fmt.Sprintf("batch request %d: %v", e.Index, e.Err)
}

// Unwrap exposes the item's error (usually an *RPCError).
func (e *BatchItemError) Unwrap() error { return e.Err }

// BadHeaderError reports a header that failed verification. Kind is one of
// ErrPrevMismatch, ErrHashMismatch, ErrBadProofOfWork, ErrBadBits and
// ErrBadGenesis; errors.Is matches both ErrBadHeader and Kind.
type BadHeaderError struct {
	Height int32
	Hash   chainhash.Hash
	Kind   error
	Reason string
}

// Error says which header is bad and why.
func (e *BadHeaderError) Error() string {
	return fmt.Sprintf("node served an invalid header at height %d (hash %v): %s",
		e.Height, e.Hash, e.Reason)
}

// Is matches ErrBadHeader.
func (e *BadHeaderError) Is(target error) bool { return target == ErrBadHeader }

// Unwrap exposes Kind.
func (e *BadHeaderError) Unwrap() error { return e.Kind }

// BadBlockError reports a delivered block that failed its checks: its header
// does not hash to the requested hash, its transactions do not hash to its
// merkle root, or its bytes do not decode. It matches ErrBadBlock.
type BadBlockError struct {
	Source string // the BlockSource's Name
	Height int32
	Hash   chainhash.Hash // the requested hash
	Reason string
}

// Error names the block, the source and what to do.
func (e *BadBlockError) Error() string {
	return fmt.Sprintf("the %s block source delivered an invalid block at height %d (hash %v): %s; "+
		"check the node's disk or choose another --source", e.Source, e.Height, e.Hash, e.Reason)
}

// Is matches ErrBadBlock.
func (e *BadBlockError) Is(target error) bool { return target == ErrBadBlock }

// PrunedError reports blocks the node has deleted: a pruned node keeps only
// the blocks from FirstAvailable up. It matches ErrPruned.
type PrunedError struct {
	FirstAvailable int32
}

// Error says where the remaining blocks start and how to index them.
func (e *PrunedError) Error() string {
	return fmt.Sprintf("the node has pruned blocks below height %d; rerun with --from-height %d",
		e.FirstAvailable, e.FirstAvailable)
}

// Is matches ErrPruned.
func (e *PrunedError) Is(target error) bool { return target == ErrPruned }
