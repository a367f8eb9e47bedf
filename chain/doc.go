// Package chain is minerscope's only link to the user's node: it finds the
// node's RPC endpoint and credentials the way bitcoin-cli does, talks
// JSON-RPC to bitcoind (>= 25) or btcd, fetches and verifies block headers,
// and locates the fork point after a reorganisation, and delivers full blocks
// through a BlockSource. It knows nothing of the on-disk index; the sync loop
// in cmd/minerscope joins the two.
//
// # Configuration
//
// ResolveConfig follows Bitcoin Core's own rules for bitcoin.conf: the network
// is chosen by top-level chain=, testnet=, testnet4=, signet= or regtest=
// (at most one); values in the chosen network's section ([main], [test],
// [testnet4], [signet], [regtest], or a "test.key=" prefix) take precedence
// over top-level ones, the first occurrence of a key wins, and a top-level
// rpcport applies only to mainnet. Precedence, highest first: explicit Config
// fields, the Umbrel APP_BITCOIN_* environment, bitcoin.conf, defaults. With
// no password the client authenticates with the node's cookie file, which it
// re-reads when the node answers 401 (a restarted node writes a new cookie).
//
// # Retries
//
// Transient failures are retried with capped exponential backoff for up to
// Config.RetryFor (default 60 s): HTTP 503 (bitcoind's "Work queue depth
// exceeded", btcd's "Too busy"), RPC error -28 (bitcoind warming up), and
// dropped or refused connections once the client has talked to the node at
// least once (the node is restarting). A node that cannot be reached on the
// very first call fails at once with ErrUnreachable.
//
// # Block sources
//
// A BlockSource delivers the blocks of a run of verified header hashes, in
// height order, while it fetches and checks the next ones: every block's
// header must hash to the requested hash and its transactions to its merkle
// root (with Bitcoin Core's CVE-2012-2459 check), or the fetch stops with a
// *BadBlockError naming the height. Witness data is not checked; the index
// keeps nothing the merkle root does not cover. At most batch size × in
// flight blocks are held ahead of the consumer, whatever their size.
//
//   - RPCBlockSource: getblock <hash> 0 in JSON-RPC batches, several in
//     flight; bitcoind and btcd. The hex replies are cut out with a scanner
//     instead of encoding/json, which at mainnet block sizes is 2.7 times
//     slower than the rest of the fetch.
//   - RESTBlockSource: Bitcoin Core's REST interface (-rest=1,
//     /rest/block/<hash>.bin): raw bytes, no hex. It is probed with
//     /rest/chaininfo.json and falls back to JSON-RPC when the node does not
//     serve it (AutoBlockSource). btcd has no REST interface: the tests
//     serve, from an httptest server, the exact bytes a real btcd returns
//     for getblock <hash> 0.
//   - BlkFileSource: Bitcoin Core's blocks directory read directly, for
//     minerscope running beside the node: blk*.dat records, the xor.dat
//     obfuscation of Core 28+, blocks out of height order and stale blocks,
//     all resolved by hash.
//
// A pruned node reports pruned and pruneheight in getblockchaininfo: a fetch
// starting below pruneheight, or running into blocks the node pruned
// meanwhile, fails with a *PrunedError carrying the first available height
// (the blk source infers it from the missing run of blocks). BaselineBlocks
// fetches and decodes like a source but checks, orders and delivers nothing:
// the yardstick of the bench command.
//
// # Node quirks
//
// btcd closes the connection after every reply and sends no Content-Length,
// so a reply cut short by a dying node looks like a short body: the client
// treats a body that is not complete JSON as a dropped connection. btcd
// rejects requests without a params array, omits initialblockdownload and
// verificationprogress from getblockchaininfo, reports chain names as
// "mainnet"/"testnet3" (bitcoind: "main"/"test"), answers getblockhash beyond
// its tip with error -1 (bitcoind: -8), limits concurrent RPC clients to 10 by
// default and, unless started with --notls, speaks only TLS.
package chain
