package chaintest

import (
	"context"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

// Nodes start with no peers: they listen on a loopback port but have no DNS
// seeds and no addresses to dial (on simnet btcd never dials on its own), so
// two nodes mine separate branches until a test connects them with
// ConnectPeer. That is how reorg tests make a node switch branch the way it
// does on a real network, by downloading a peer's heavier chain.

// ConnectPeer makes n open a peer-to-peer connection to peer (addnode
// onetry). Once connected, n downloads peer's blocks when peer's chain is
// longer and reorganizes onto them when they carry more work. The connection
// is made in the background: wait for its effect with WaitTip.
func (n *Node) ConnectPeer(ctx context.Context, peer *Node) error {
	if _, err := n.Call(ctx, "addnode", peer.P2PAddr, "onetry"); err != nil {
		return fmt.Errorf("chaintest: connect to peer %s: %w",
			peer.P2PAddr, err)
	}
	return nil
}

// DisconnectPeer drops n's connection to peer made by ConnectPeer, so the
// two can mine separate branches again.
func (n *Node) DisconnectPeer(ctx context.Context, peer *Node) error {
	if _, err := n.Call(ctx, "node", "disconnect", peer.P2PAddr); err != nil {
		return fmt.Errorf("chaintest: disconnect peer %s: %w",
			peer.P2PAddr, err)
	}
	return nil
}

// PeerCount returns how many peers n is connected to (getconnectioncount).
func (n *Node) PeerCount(ctx context.Context) (int, error) {
	var count int
	if err := n.callInto(ctx, &count, "getconnectioncount"); err != nil {
		return 0, err
	}
	return count, nil
}

// WaitTip polls n until its best block is want. Only ctx bounds the wait; its
// error names the tip n had last.
func (n *Node) WaitTip(ctx context.Context, want chainhash.Hash) error {
	delay := 5 * time.Millisecond
	for {
		got, height, err := n.BestBlock(ctx)
		if err == nil && got == want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("chaintest: waiting for tip %v at %s: %w "+
				"(last tip %v at height %d, error %v)", want,
				n.RPCAddr, ctx.Err(), got, height, err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 100*time.Millisecond)
	}
}

// WaitPeerCount polls n until it has exactly want peers, e.g. none after
// DisconnectPeer, which drops the connection in the background. Only ctx
// bounds the wait.
func (n *Node) WaitPeerCount(ctx context.Context, want int) error {
	delay := 5 * time.Millisecond
	for {
		got, err := n.PeerCount(ctx)
		if err == nil && got == want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("chaintest: waiting for %d peers at %s: %w "+
				"(last count %d, error %v)", want, n.RPCAddr, ctx.Err(),
				got, err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 100*time.Millisecond)
	}
}
