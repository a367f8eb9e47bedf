package chaintest

import (
	"crypto/sha256"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
)

// miningSeed derives the fixed key simnet nodes and the Builder pay to.
const miningSeed = "minerscope chaintest mining key"

// MiningKey returns the fixed private key behind MiningAddress, so tests can
// spend the coinbases of blocks they mined.
func MiningKey() *btcec.PrivateKey {
	seed := sha256.Sum256([]byte(miningSeed))
	key, _ := btcec.PrivKeyFromBytes(seed[:])
	return key
}

// MiningAddress returns the simnet P2PKH address of MiningKey; simnet nodes
// are started with it as --miningaddr.
func MiningAddress() *btcutil.AddressPubKeyHash {
	pub := MiningKey().PubKey().SerializeCompressed()
	addr, err := btcutil.NewAddressPubKeyHash(btcutil.Hash160(pub),
		&chaincfg.SimNetParams)
	if err != nil {
		panic(err) // a 20-byte hash is always valid
	}
	return addr
}

// MiningScript returns the pkScript paying MiningAddress.
func MiningScript() []byte {
	script, err := txscript.PayToAddrScript(MiningAddress())
	if err != nil {
		panic(err) // P2PKH scripts always build
	}
	return script
}
