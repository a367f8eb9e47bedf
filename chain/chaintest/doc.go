// Package chaintest starts and stops real btcd nodes for integration tests
// and for the `minerscope demo` command.
//
// Nothing here is faked: Start builds btcd and addblock from the versions
// pinned in go.mod (once per process, cached per user), runs btcd on
// loopback ports with a fresh data directory and waits until its RPC server
// answers. StartMainnet gives a node holding the real mainnet blocks 0-14131
// shipped in btcd's test data; StartSimnet gives an empty simnet node.
//
// Builder crafts valid simnet blocks with chosen timestamps, coinbase scripts
// and outputs, and difficulty, solves their proof of work and tracks any
// number of branches, so tests can build a chain across retargets and force
// reorgs by submitting a longer side chain.
//
// WriteBlkFiles writes blocks as Bitcoin Core's blocks directory (blk*.dat
// records in any order, optionally obfuscated with a Core 28 xor.dat key),
// and MainnetBlocks returns the real mainnet blocks 0-14131 to fill it.
//
// FlowChain crafts mainnet-shaped segwit blocks (valid without keys, through
// WitnessTrue scripts) on a simnet node it activates segwit on, for
// benchmarks that need a real node to serve today's block sizes.
//
// The core (Start, ImportMainnet, Builder) does not depend on package testing;
// StartMainnet and StartSimnet are thin wrappers for tests.
package chaintest
