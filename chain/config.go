package chain

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/minerscope/minerscope/analysis"
)

// Defaults for the zero values of Config.
const (
	// DefaultTimeout bounds one HTTP request; getnetworkhashps over many
	// blocks is the slowest call minerscope makes.
	DefaultTimeout = 60 * time.Second

	// DefaultRetryFor bounds how long transient failures are retried,
	// long enough for a node restart.
	DefaultRetryFor = 60 * time.Second
)

// Config says where the node is and how to authenticate. ResolveConfig
// fills it from bitcoin.conf and the environment; Dial takes it resolved.
type Config struct {
	Host       string // host:port; "" = 127.0.0.1 and the network's default port
	User, Pass string
	CookieFile string        // used when Pass is empty
	BitcoinDir string        // bitcoind datadir
	Network    string        // optional hint: mainnet, testnet3, testnet4, signet, regtest, simnet
	Timeout    time.Duration // per HTTP request; 0 = DefaultTimeout
	RetryFor   time.Duration // total time to retry transient failures; 0 = DefaultRetryFor, < 0 = never
	Logger     *slog.Logger  // retries and warnings; nil = silent
}

// Umbrel exports these to apps that depend on its Bitcoin node.
const (
	envUmbrelIP   = "APP_BITCOIN_NODE_IP"
	envUmbrelPort = "APP_BITCOIN_RPC_PORT"
	envUmbrelUser = "APP_BITCOIN_RPC_USER"
	envUmbrelPass = "APP_BITCOIN_RPC_PASS"
)

// netLayout is where Core keeps a network's settings and files.
type netLayout struct {
	section string // bitcoin.conf section
	subdir  string // under the datadir; "" for mainnet
}

var layouts = map[string]netLayout{
	"mainnet":  {"main", ""},
	"testnet3": {"test", "testnet3"},
	"testnet4": {"testnet4", "testnet4"},
	"signet":   {"signet", "signet"},
	"regtest":  {"regtest", "regtest"},
	"simnet":   {"simnet", "simnet"}, // btcd only; no bitcoin.conf section
}

var networkAliases = map[string]string{
	"main": "mainnet", "mainnet": "mainnet", "bitcoin": "mainnet",
	"test": "testnet3", "testnet": "testnet3", "testnet3": "testnet3",
	"testnet4": "testnet4",
	"signet":   "signet",
	"regtest":  "regtest",
	"simnet":   "simnet",
}

// normalizeNetwork maps Core's and btcd's chain names to analysis.Params
// names; "" stays "".
func normalizeNetwork(name string) (string, error) {
	if name == "" {
		return "", nil
	}
	if n, ok := networkAliases[strings.ToLower(strings.TrimSpace(name))]; ok {
		return n, nil
	}
	return "", fmt.Errorf("unknown network %q; use mainnet, testnet3, testnet4, "+
		"signet, regtest or simnet", name)
}

// ResolveConfig completes c the way bitcoin-cli would find the node:
// explicit fields first, then the Umbrel APP_BITCOIN_* variables read through
// env (nil reads nothing), then bitcoin.conf in BitcoinDir (default: the
// platform's Bitcoin Core datadir, found through env's HOME/APPDATA), then
// defaults. The result has Host set, either Pass or CookieFile set when any
// credentials were found, and Network set when it was given or bitcoin.conf
// selects one.
func ResolveConfig(c Config, env func(string) string) (Config, error) {
	if env == nil {
		env = func(string) string { return "" }
	}
	log := loggerOrDiscard(c.Logger)

	hint, err := normalizeNetwork(c.Network)
	if err != nil {
		return c, err
	}
	dir, err := bitcoinDir(c.BitcoinDir, env)
	if err != nil {
		return c, err
	}
	conf, network, err := loadConf(dir, hint)
	if err != nil {
		return c, err
	}
	c.Network = network
	if c.BitcoinDir == "" {
		// As in Core, datadir= in bitcoin.conf moves the data directory
		// unless one was given explicitly.
		if d := conf.str("datadir", sectionOf(network)); d != "" {
			dir = d
		}
	}
	c.BitcoinDir = dir

	if c.Host, err = resolveHost(c.Host, network, conf, env, log); err != nil {
		return c, err
	}
	resolveAuth(&c, conf, env)
	return c, nil
}

func loggerOrDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

func sectionOf(network string) string {
	if network == "" {
		return "main"
	}
	return layouts[network].section
}

// bitcoinDir checks an explicit datadir or finds the default one; a missing
// default is not an error (there may be no local node at all).
func bitcoinDir(dir string, env func(string) string) (string, error) {
	if dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return "", fmt.Errorf("bitcoin data directory %s does not exist; "+
				"pass the node's datadir with --bitcoin-dir", dir)
		}
		return dir, nil
	}
	for _, d := range defaultBitcoinDirs(env) {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d, nil
		}
	}
	return "", nil
}

// defaultBitcoinDirs lists Bitcoin Core's default datadir for this platform,
// newest convention first.
func defaultBitcoinDirs(env func(string) string) []string {
	var dirs []string
	switch runtime.GOOS {
	case "windows":
		for _, v := range []string{"LOCALAPPDATA", "APPDATA"} {
			if base := env(v); base != "" {
				dirs = append(dirs, filepath.Join(base, "Bitcoin"))
			}
		}
	case "darwin":
		if home := env("HOME"); home != "" {
			dirs = append(dirs, filepath.Join(home, "Library", "Application Support", "Bitcoin"))
		}
	default:
		if home := env("HOME"); home != "" {
			dirs = append(dirs, filepath.Join(home, ".bitcoin"))
		}
	}
	return dirs
}

// loadConf reads <dir>/bitcoin.conf and its includeconf files and settles
// the network: the hint and bitcoin.conf must agree when both name one.
func loadConf(dir, hint string) (*bitcoinConf, string, error) {
	conf := newBitcoinConf()
	if dir == "" {
		return conf, hint, nil
	}
	path := filepath.Join(dir, "bitcoin.conf")
	if found, err := conf.readConfFile(path); err != nil || !found {
		return conf, hint, err
	}

	network, err := conf.network()
	if err != nil {
		return nil, "", err
	}
	if err := conf.include(dir, sectionOf(pick(hint, network))); err != nil {
		return nil, "", err
	}
	if network, err = conf.network(); err != nil {
		return nil, "", err
	}

	switch {
	case network == "":
		return conf, hint, nil
	case hint != "" && hint != network:
		return nil, "", fmt.Errorf("%w: the network is %s but %s selects %s; "+
			"drop one of them or use another --bitcoin-dir", ErrBadConfig, hint, path, network)
	}
	return conf, network, nil
}

func pick(first, second string) string {
	if first != "" {
		return first
	}
	return second
}

// include reads the includeconf files named in the network's section and at
// top level, relative to the datadir, as Core does (one level deep).
func (conf *bitcoinConf) include(dir, section string) error {
	var names []confValue
	names = append(names, conf.sections[section]["includeconf"]...)
	names = append(names, conf.sections[""]["includeconf"]...)
	for _, n := range names {
		if n.negated || n.value == "" {
			continue
		}
		path := n.value
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		found, err := conf.readConfFile(path)
		if err != nil {
			return err
		}
		if !found {
			return confErr(n.file, n.line, "included file %s does not exist", path)
		}
	}
	return nil
}

// resolveHost settles host and port separately, each from the first source
// that has it: explicit, Umbrel, rpcconnect/rpcport, default. As in
// bitcoin-cli, rpcport beats a port written in rpcconnect.
func resolveHost(explicit, network string, conf *bitcoinConf, env func(string) string,
	log *slog.Logger) (string, error) {

	host, port, err := splitHostPort(explicit)
	if err != nil {
		return "", err
	}
	if host == "" {
		host = env(envUmbrelIP)
	}
	if port == "" {
		port = env(envUmbrelPort)
	}

	section := sectionOf(network)
	connHost, connPort, err := splitHostPort(conf.str("rpcconnect", section))
	if err != nil {
		return "", fmt.Errorf("%w: rpcconnect: %w", ErrBadConfig, err)
	}
	if host == "" {
		host = connHost
	}
	if port == "" {
		v, found, ignored := conf.get("rpcport", section)
		if ignored {
			log.Warn("bitcoin.conf: top-level rpcport applies only to mainnet; "+
				"put it in the network's section", "network", network,
				"file", v.file, "line", v.line)
		}
		if found && !v.negated {
			port = v.value
		}
	}
	if port == "" {
		port = connPort
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = defaultPort(network)
	}

	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("RPC port %q is not a port number; fix --rpcport, "+
			"rpcport in bitcoin.conf or %s", port, envUmbrelPort)
	}
	return net.JoinHostPort(host, port), nil
}

// defaultPort is the network's RPC port; mainnet's when the network is not
// known, as bitcoin-cli does.
func defaultPort(network string) string {
	if p, ok := analysis.ParamsByName(pick(network, "mainnet")); ok {
		return p.DefaultRPCPort
	}
	return analysis.Mainnet.DefaultRPCPort
}

// splitHostPort splits "host", "host:port", "[v6]:port", "[v6]" or a bare
// IPv6 address; an http:// prefix is accepted and dropped.
func splitHostPort(s string) (host, port string, err error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "https://") {
		return "", "", fmt.Errorf("RPC address %s: TLS is not supported; use the node's "+
			"plain HTTP RPC port (btcd: start it with --notls)", s)
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "http://"), "/")
	switch {
	case s == "":
		return "", "", nil
	case strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]"):
		return s[1 : len(s)-1], "", nil
	case strings.HasPrefix(s, "[") || strings.Count(s, ":") == 1:
		host, port, err = net.SplitHostPort(s)
		if err != nil {
			return "", "", fmt.Errorf("RPC address %q: %w", s, err)
		}
		return host, port, nil
	}
	return s, "", nil // a name, IPv4 address or bare IPv6 address
}

// resolveAuth picks credentials as bitcoin-cli does: a password (explicit,
// then Umbrel, then bitcoin.conf) beats the cookie, except that an explicit
// cookie file beats a password found elsewhere.
func resolveAuth(c *Config, conf *bitcoinConf, env func(string) string) {
	section := sectionOf(c.Network)
	user := pick(c.User, pick(env(envUmbrelUser), conf.str("rpcuser", section)))
	switch {
	case c.Pass != "":
		c.User = user
		return
	case c.CookieFile != "":
		c.User = ""
		return
	}
	if pass := pick(env(envUmbrelPass), conf.str("rpcpassword", section)); pass != "" {
		c.User, c.Pass = user, pass
		return
	}

	c.User = ""
	c.CookieFile = cookiePath(c.BitcoinDir, c.Network, conf)
}

// cookiePath is Core's auth cookie location: rpccookiefile (relative to the
// network's datadir) or <datadir>/<network subdir>/.cookie; "" when
// rpccookiefile is negated or the datadir is unknown.
func cookiePath(dir, network string, conf *bitcoinConf) string {
	netDir := filepath.Join(dir, layouts[pick(network, "mainnet")].subdir)
	v, found, _ := conf.get("rpccookiefile", sectionOf(network))
	switch {
	case found && v.negated:
		return ""
	case found && v.value != "" && filepath.IsAbs(v.value):
		return v.value
	case dir == "":
		return ""
	case found && v.value != "":
		return filepath.Join(netDir, v.value)
	}
	return filepath.Join(netDir, ".cookie")
}

// readCookie returns the user and password in a cookie file
// ("__cookie__:<hex>").
func readCookie(path string) (user, pass string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("%w: cannot read the node's cookie file: %w; is the "+
			"node running, and is --bitcoin-dir or --rpccookiefile right? Or pass "+
			"--rpcuser/--rpcpassword", ErrNoCredentials, err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	user, pass, ok := strings.Cut(strings.TrimSpace(line), ":")
	if !ok {
		return "", "", fmt.Errorf("%w: cookie file %s is not user:password; "+
			"restart the node to rewrite it", ErrNoCredentials, path)
	}
	return user, pass, nil
}

// withDefaultPort adds the network's default port when addr has none.
func withDefaultPort(addr, network string) (string, error) {
	host, port, err := splitHostPort(addr)
	if err != nil {
		return "", err
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = defaultPort(network)
	}
	return net.JoinHostPort(host, port), nil
}
