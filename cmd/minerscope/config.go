package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// confFileName is the config file serve reads from ~/.minerscope when --conf is not given.
const confFileName = "minerscope.conf"

// maxConfSize bounds the config file: anything larger is not a config file.
const maxConfSize = 1 << 20

// confEntry is one key=value line of a config file.
type confEntry struct {
	Key, Value string
	Line       int
}

// readConfig parses a config file in bitcoin.conf's key=value form: one setting per line, blank lines and
// lines starting with # ignored, spaces around the key and the value trimmed. A key is a long flag name
// without its dashes ("rpcuser", "listen", "allow-remote"). Any other line, an empty key or a key given
// twice is an error naming the line.
func readConfig(r io.Reader, name string) ([]confEntry, error) {
	var out []confEntry
	seen := map[string]int{}
	sc := bufio.NewScanner(io.LimitReader(r, maxConfSize))
	sc.Buffer(make([]byte, 0, 4096), maxConfSize)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		switch {
		case strings.HasPrefix(line, "["):
			return nil, usagef("%s line %d: sections like %q are not supported; write every setting as key=value", name, n, line)
		case !ok || key == "":
			return nil, usagef("%s line %d: %q is not a key=value setting", name, n, line)
		case strings.HasPrefix(key, "-"):
			return nil, usagef("%s line %d: write the key without dashes: %q", name, n, strings.TrimLeft(key, "-"))
		}
		if prev, dup := seen[key]; dup {
			return nil, usagef("%s line %d: %q is already set on line %d", name, n, key, prev)
		}
		seen[key] = n
		out = append(out, confEntry{Key: key, Value: value, Line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return out, nil
}

// applyConfig sets every flag of cmd (its own and the global ones) that the user did not set on the command
// line or in its MINERSCOPE_<NAME> environment variable from the config file: --conf FILE, or
// ~/.minerscope/minerscope.conf if it exists. Precedence is therefore: command line, then environment, then
// the config file, then the flag's default. An unknown key is an error naming its line.
func applyConfig(cmd *cobra.Command, getenv func(string) string, confFlag string) error {
	file, explicit := confFlag, confFlag != ""
	if !explicit {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil // no home, no default config file
		}
		file = filepath.Join(home, ".minerscope", confFileName)
	}
	f, err := os.Open(file)
	switch {
	case err != nil && !explicit && errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return usagef("config file: %v", err)
	}
	defer f.Close()
	entries, err := readConfig(f, file)
	if err != nil {
		return err
	}
	for _, e := range entries {
		fl := lookupFlag(cmd, e.Key)
		switch {
		case fl == nil || e.Key == "conf" || e.Key == "help":
			return usagef("%s line %d: unknown setting %q; the keys are serve's and the global flags' long names "+
				"(see minerscope serve --help)", file, e.Line, e.Key)
		case fl.Changed || getenv(envName(fl.Name)) != "":
			continue // the command line and the environment win
		}
		if err := fl.Value.Set(e.Value); err != nil {
			return usagef("%s line %d: %s=%q: %v", file, e.Line, e.Key, e.Value, err)
		}
	}
	return nil
}

// lookupFlag finds a flag of cmd by its long name, among its own flags and those it inherits.
func lookupFlag(cmd *cobra.Command, name string) *pflag.Flag {
	if fl := cmd.Flags().Lookup(name); fl != nil {
		return fl
	}
	return cmd.InheritedFlags().Lookup(name)
}
