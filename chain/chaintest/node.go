package chaintest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
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
	// stopTimeout bounds a clean shutdown before btcd is killed.
	stopTimeout = 30 * time.Second

	// startAttempts bounds retries when a picked port was taken meanwhile.
	startAttempts = 5

	// logTailBytes is how much of btcd's output start errors quote.
	logTailBytes = 4000
)

var (
	// ErrExited is returned when btcd exits before its RPC server answers.
	ErrExited = errors.New("chaintest: btcd exited during start")

	// ErrUnsupportedNet is returned for networks btcd cannot run.
	ErrUnsupportedNet = errors.New("chaintest: network not supported by btcd")
)

// Options configure Start.
type Options struct {
	// Net is the network to run; nil means simnet.
	Net *chaincfg.Params

	// DataDir is btcd's data directory; empty means a new temporary
	// directory that Close removes.
	DataDir string

	// ExtraArgs are appended to btcd's command line; where they repeat
	// a flag Start sets, the last value wins.
	ExtraArgs []string

	// Logf receives progress messages; nil discards them.
	Logf func(format string, args ...any)

	// Detach lets btcd outlive this process (`minerscope demo --keep`);
	// otherwise the kernel kills btcd when this process dies.
	Detach bool

	// NoTxIndex starts btcd without --txindex, like a bitcoind without
	// txindex=1: getrawtransaction then answers only for the mempool, so
	// tests can check what minerscope does when the node cannot give the
	// values of spent outputs. Starting a later node on the same DataDir
	// without NoTxIndex builds the index before RPC answers.
	NoTxIndex bool
}

// Node is a running btcd process listening on loopback ports.
type Node struct {
	// RPCAddr is the JSON-RPC address, 127.0.0.1:port (plain HTTP).
	RPCAddr string

	// P2PAddr is the peer-to-peer listen address, 127.0.0.1:port.
	P2PAddr string

	// User and Pass are the RPC credentials.
	User, Pass string

	// Params are the node's network parameters.
	Params *chaincfg.Params

	// DataDir is btcd's data directory; logs and btcd's output live in it.
	DataDir string

	tools   Tools
	opts    Options
	logf    func(string, ...any)
	ownsDir bool

	mu      sync.Mutex
	client  *http.Client
	cmd     *exec.Cmd
	done    chan struct{} // closed when cmd has exited
	waitErr error         // cmd.Wait's result, valid after done
}

// Start builds btcd if needed, starts it and waits until its RPC server
// answers getblockcount. The wait is bounded only by ctx.
func Start(ctx context.Context, opts Options) (*Node, error) {
	if opts.Net == nil {
		opts.Net = &chaincfg.SimNetParams
	}
	if _, err := netFlag(opts.Net); err != nil {
		return nil, err
	}
	logf := orDiscard(opts.Logf)

	tools, err := BuildTools(ctx, logf)
	if err != nil {
		return nil, err
	}

	n := &Node{
		User:    "minerscope",
		Pass:    randomHex(16),
		Params:  opts.Net,
		DataDir: opts.DataDir,
		tools:   tools,
		opts:    opts,
		logf:    logf,
	}
	if n.DataDir == "" {
		n.DataDir, err = os.MkdirTemp("", "chaintest-btcd-")
		if err != nil {
			return nil, fmt.Errorf("chaintest: %w", err)
		}
		n.ownsDir = true
	}
	if err := n.prepareDir(); err != nil {
		n.removeOwnedDir()
		return nil, err
	}

	if err := n.startFresh(ctx); err != nil {
		n.removeOwnedDir()
		return nil, err
	}
	return n, nil
}

// startFresh starts btcd on new random ports, retrying when a port was
// taken between picking and binding it.
func (n *Node) startFresh(ctx context.Context) error {
	var err error
	for range startAttempts {
		n.RPCAddr, n.P2PAddr, err = freePorts()
		if err != nil {
			return err
		}
		err = n.launch(ctx)
		if !errors.Is(err, errAddrInUse) {
			return err
		}
		n.logf("btcd port clash, retrying: %v", err)
	}
	return err
}

// errAddrInUse marks a start that failed because a port was taken.
var errAddrInUse = errors.New("address already in use")

// Restart stops btcd and starts it again on the same data directory,
// preferring the same ports.
func (n *Node) Restart(ctx context.Context) error {
	if err := n.Stop(); err != nil {
		return err
	}
	err := n.launch(ctx)
	if errors.Is(err, errAddrInUse) {
		err = n.startFresh(ctx)
	}
	return err
}

// prepareDir creates the data directory layout btcd expects and an empty
// config file, so btcd never reads or creates one under the user's home.
func (n *Node) prepareDir() error {
	for _, d := range []string{n.DataDir, n.logDir(), n.homeDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("chaintest: %w", err)
		}
	}
	f, err := os.OpenFile(n.confPath(), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("chaintest: %w", err)
	}
	return f.Close()
}

func (n *Node) logDir() string   { return filepath.Join(n.DataDir, "logs") }
func (n *Node) homeDir() string  { return filepath.Join(n.DataDir, "home") }
func (n *Node) confPath() string { return filepath.Join(n.DataDir, "btcd.conf") }

// OutputPath is the file holding btcd's stdout and stderr.
func (n *Node) OutputPath() string { return filepath.Join(n.DataDir, "btcd.out") }

// args returns btcd's command line for the current ports.
func (n *Node) args() []string {
	netArg, _ := netFlag(n.Params)
	args := []string{
		"--configfile=" + n.confPath(),
		"--datadir=" + n.DataDir,
		"--logdir=" + n.logDir(),
		"--rpclisten=" + n.RPCAddr,
		"--rpcuser=" + n.User,
		"--rpcpass=" + n.Pass,
		"--notls",
		"--listen=" + n.P2PAddr,
		"--nodnsseed",
		"--noonion",
		"--debuglevel=info",
		// Test chains are tiny; the default 250 MiB cache costs
		// 100 MB of memory per node.
		"--utxocachemaxsize=16",
	}
	if !n.opts.NoTxIndex {
		// minerscope asks getrawtransaction for the values of inputs
		// that are not miner outputs, as with a bitcoind run with
		// txindex=1.
		args = append(args, "--txindex")
	}
	if netArg != "" {
		args = append(args, netArg)
	}
	if n.Params.Net == wire.SimNet {
		args = append(args, "--miningaddr="+MiningAddress().EncodeAddress())
	}
	return append(args, n.opts.ExtraArgs...)
}

// netFlag returns btcd's flag selecting params' network.
func netFlag(p *chaincfg.Params) (string, error) {
	switch p.Net {
	case wire.MainNet:
		return "", nil
	case wire.TestNet3:
		return "--testnet", nil
	case wire.SimNet:
		return "--simnet", nil
	case wire.TestNet:
		return "--regtest", nil
	case chaincfg.SigNetParams.Net:
		return "--signet", nil
	}
	return "", fmt.Errorf("%w: %s", ErrUnsupportedNet, p.Name)
}

// launch starts the btcd process and waits until it is ready.
func (n *Node) launch(ctx context.Context) error {
	out, err := os.OpenFile(n.OutputPath(),
		os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("chaintest: %w", err)
	}
	defer out.Close()
	startOff, _ := out.Seek(0, 2)

	cmd := exec.Command(n.tools.Btcd, n.args()...)
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.Env = append(os.Environ(), "HOME="+n.homeDir())
	setProcAttr(cmd, n.opts.Detach)

	begin := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("chaintest: start btcd: %w", err)
	}
	done := make(chan struct{})
	n.mu.Lock()
	n.cmd, n.done, n.waitErr = cmd, done, nil
	n.mu.Unlock()
	go func() {
		err := cmd.Wait()
		n.mu.Lock()
		n.waitErr = err
		n.mu.Unlock()
		close(done)
	}()

	if err := n.waitReady(ctx, done); err != nil {
		_ = n.Stop()
		tail := n.outputTail(startOff)
		if strings.Contains(tail, "address already in use") {
			err = fmt.Errorf("%w: %w", errAddrInUse, err)
		}
		return fmt.Errorf("%w\nbtcd output (%s):\n%s", err,
			n.OutputPath(), tail)
	}
	n.logf("btcd %s ready at %s in %v (datadir %s)", n.Params.Name,
		n.RPCAddr, time.Since(begin).Round(time.Millisecond), n.DataDir)
	return nil
}

// waitReady polls getblockcount until it answers, btcd exits or ctx ends.
func (n *Node) waitReady(ctx context.Context, done <-chan struct{}) error {
	delay := 10 * time.Millisecond
	for {
		_, err := n.Call(ctx, "getblockcount")
		if err == nil {
			return nil
		}
		select {
		case <-done:
			n.mu.Lock()
			werr := n.waitErr
			n.mu.Unlock()
			return fmt.Errorf("%w: %v", ErrExited, werr)
		case <-ctx.Done():
			return fmt.Errorf("chaintest: waiting for btcd RPC at "+
				"%s: %w (last error: %v)", n.RPCAddr, ctx.Err(), err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 200*time.Millisecond)
	}
}

// outputTail returns the end of btcd's output written since offset off.
func (n *Node) outputTail(off int64) string {
	b, err := os.ReadFile(n.OutputPath())
	if err != nil {
		return err.Error()
	}
	if off < int64(len(b)) {
		b = b[off:]
	}
	if len(b) > logTailBytes {
		b = b[len(b)-logTailBytes:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

// Running reports whether the btcd process is alive.
func (n *Node) Running() bool {
	n.mu.Lock()
	done := n.done
	n.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// Stop asks btcd to shut down with SIGINT, waits for it and kills its
// process group if it has not exited after 30 seconds. Stopping a stopped
// node does nothing.
func (n *Node) Stop() error {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	if cmd == nil {
		return nil
	}
	defer n.closeIdle()

	select {
	case <-done:
		return nil
	default:
	}

	if err := interrupt(cmd); err != nil {
		n.logf("btcd interrupt failed, killing it: %v", err)
	}
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-done:
		return nil
	case <-timer.C:
	}

	if err := killGroup(cmd); err != nil {
		return fmt.Errorf("chaintest: kill btcd pid %d: %w",
			cmd.Process.Pid, err)
	}
	<-done
	return fmt.Errorf("chaintest: btcd pid %d ignored SIGINT for %v and "+
		"was killed", cmd.Process.Pid, stopTimeout)
}

// Close stops btcd and removes the data directory if Start created it.
func (n *Node) Close() error {
	err := n.Stop()
	n.removeOwnedDir()
	return err
}

func (n *Node) removeOwnedDir() {
	if n.ownsDir {
		_ = os.RemoveAll(n.DataDir)
	}
}

// freePorts returns two loopback addresses whose ports were free a moment
// ago.
func freePorts() (rpc, p2p string, err error) {
	var addrs [2]string
	for i := range addrs {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", "", fmt.Errorf("chaintest: pick port: %w", err)
		}
		defer l.Close()
		addrs[i] = l.Addr().String()
	}
	return addrs[0], addrs[1], nil
}

// randomHex returns n random bytes, hex encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// PID is btcd's process id, or 0 when it is not running.
func (n *Node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil || n.cmd.Process == nil {
		return 0
	}
	return n.cmd.Process.Pid
}
