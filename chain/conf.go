package chain

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// confValue is one key=value occurrence in a bitcoin.conf.
type confValue struct {
	value   string
	negated bool // written as no<key>=...
	file    string
	line    int
}

// bitcoinConf holds the options of bitcoin.conf (and its includes) in file
// order: top-level ones under section "" and the rest under their section.
type bitcoinConf struct {
	sections map[string]map[string][]confValue
}

func newBitcoinConf() *bitcoinConf {
	return &bitcoinConf{sections: make(map[string]map[string][]confValue)}
}

// readConfFile parses path into conf. A missing file is not an error, as in
// Core; found reports whether it existed.
func (conf *bitcoinConf) readConfFile(path string) (found bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()

	return true, conf.parse(f, path)
}

// parse reads one config file with Core's GetConfigOptions rules: "#" starts
// a comment anywhere, "[name]" opens a section, keys and values are trimmed,
// "section.key=value" works at top level, and any other line is an error.
func (conf *bitcoinConf) parse(r io.Reader, file string) error {
	prefix := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for line := 1; sc.Scan(); line++ {
		str, usedHash := stripComment(sc.Text())
		str = strings.Trim(str, " \t\r\n")
		switch {
		case str == "":
			continue

		case strings.HasPrefix(str, "[") && strings.HasSuffix(str, "]"):
			prefix = str[1:len(str)-1] + "."

		case strings.HasPrefix(str, "-"):
			return confErr(file, line, "%q: options in bitcoin.conf must be written "+
				"without a leading -", str)

		case strings.Contains(str, "="):
			key, value, _ := strings.Cut(str, "=")
			name := prefix + strings.Trim(key, " \t\r\n")
			if usedHash && strings.Contains(name, "rpcpassword") {
				return confErr(file, line, "a # in rpcpassword is ambiguous; "+
					"choose a password without #")
			}
			conf.add(name, strings.Trim(value, " \t\r\n"), file, line)

		default:
			return confErr(file, line, "%q is not a key=value line; fix or remove it", str)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	return nil
}

func stripComment(s string) (string, bool) {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		return s[:i], true
	}
	return s, false
}

func confErr(file string, line int, format string, args ...any) error {
	return fmt.Errorf("%w: %s:%d: %s", ErrBadConfig, file, line, fmt.Sprintf(format, args...))
}

// add stores name=value the way Core's InterpretKey splits it: the part
// before the first dot is the section, a "no" prefix negates the key.
func (conf *bitcoinConf) add(name, value, file string, line int) {
	section, key, ok := strings.Cut(name, ".")
	if !ok {
		section, key = "", name
	}
	v := confValue{value: value, file: file, line: line}
	if strings.HasPrefix(key, "no") {
		key, v.negated = key[2:], true
	}
	keys := conf.sections[section]
	if keys == nil {
		keys = make(map[string][]confValue)
		conf.sections[section] = keys
	}
	keys[key] = append(keys[key], v)
}

// networkOnly lists the options Core ignores at top level unless the
// network is main (ArgsManager::NETWORK_ONLY). Of the options minerscope
// reads, only rpcport has that flag; rpcconnect, rpcuser, rpcpassword and
// rpccookiefile apply from the top level on every network.
var networkOnly = map[string]bool{"rpcport": true}

// get returns the value Core would use for key on the network whose config
// section is section ("main" for mainnet): the first occurrence in that
// section, else the first at top level. ignored reports a top-level value
// skipped because the key is network-only.
func (conf *bitcoinConf) get(key, section string) (v confValue, found, ignored bool) {
	if vs := conf.sections[section][key]; len(vs) > 0 {
		return vs[0], true, false
	}
	vs := conf.sections[""][key]
	if len(vs) == 0 {
		return confValue{}, false, false
	}
	if section != "main" && networkOnly[key] {
		return vs[0], false, true
	}
	return vs[0], true, false
}

// str returns key's string value; negated or absent gives "".
func (conf *bitcoinConf) str(key, section string) string {
	v, found, _ := conf.get(key, section)
	if !found || v.negated {
		return ""
	}
	return v.value
}

// chainFlags are the boolean options that select a network, as Core's
// GetChainTypeString reads them, with the network each selects.
var chainFlags = []struct{ key, network string }{
	{"regtest", "regtest"},
	{"signet", "signet"},
	{"testnet", "testnet3"},
	{"testnet4", "testnet4"},
}

// network returns the network chosen at top level ("" when none is, which
// Core reads as main). As in Core, the last occurrence of each option wins
// and selecting more than one network is an error.
func (conf *bitcoinConf) network() (string, error) {
	top := conf.sections[""]
	var chosen []string
	where := ""
	for _, f := range chainFlags {
		vs := top[f.key]
		if len(vs) == 0 {
			continue
		}
		last := vs[len(vs)-1]
		if confBool(last) {
			chosen = append(chosen, f.network)
			where = fmt.Sprintf("%s:%d", last.file, last.line)
		}
	}
	if vs := top["chain"]; len(vs) > 0 && !vs[len(vs)-1].negated {
		last := vs[len(vs)-1]
		name, err := normalizeNetwork(last.value)
		if err != nil {
			return "", confErr(last.file, last.line, "chain=%s: %v", last.value, err)
		}
		chosen = append(chosen, name)
		where = fmt.Sprintf("%s:%d", last.file, last.line)
	}
	switch len(chosen) {
	case 0:
		return "", nil
	case 1:
		return chosen[0], nil
	}
	return "", fmt.Errorf("%w: %s selects %s; use at most one of regtest, signet, "+
		"testnet, testnet4 and chain", ErrBadConfig, where, strings.Join(chosen, " and "))
}

// confBool interprets a value as Core's InterpretBool: empty is true,
// otherwise the leading integer is tested against zero; "no" flips it.
func confBool(v confValue) bool {
	b := true
	if v.value != "" {
		n, err := strconv.Atoi(leadingInt(v.value))
		b = err == nil && n != 0
	}
	return b != v.negated
}

// leadingInt mimics atoi: the optional sign and digits at the start.
func leadingInt(s string) string {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}
