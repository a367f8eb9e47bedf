package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadConfig(t *testing.T) {
	for _, c := range []struct {
		name, text string
		want       []confEntry
		err        string // a substring of the error, "" for none
	}{
		{"empty", "", nil, ""},
		{"comments and blanks", "# minerscope\n\n   # indented\n", nil, ""},
		{"settings", "rpcuser=alice\n listen = 127.0.0.1:9000 \nallow-remote=1\nrpcpassword=a=b#c\n",
			[]confEntry{{"rpcuser", "alice", 1}, {"listen", "127.0.0.1:9000", 2}, {"allow-remote", "1", 3},
				{"rpcpassword", "a=b#c", 4}}, ""},
		{"empty value", "network=\n", []confEntry{{"network", "", 1}}, ""},
		{"no equals", "rpcuser alice\n", nil, "line 1"},
		{"empty key", "rpcuser=a\n=b\n", nil, "line 2"},
		{"dashes", "--listen=x\n", nil, "without dashes"},
		{"section", "[test]\nrpcuser=a\n", nil, "sections"},
		{"duplicate", "rpcuser=a\n\nrpcuser=b\n", nil, "line 3: \"rpcuser\" is already set on line 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := readConfig(strings.NewReader(c.text), "test.conf")
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one with %q", err, c.err)
				}
				if exitCode(err) != exitUsage {
					t.Fatalf("exit code %d for %v, want %d", exitCode(err), err, exitUsage)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("entry %d: %+v, want %+v", i, got[i], c.want[i])
				}
			}
		})
	}
}

// TestServeConfigPrecedence checks what wins among the command line, the environment and the config file,
// through the flags serve checks before it reaches the node: --listen (a non-loopback address is refused)
// and --node (an unreachable node ends the run with its own exit code).
func TestServeConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	unreachable := "127.0.0.1:1"
	remote := write("remote.conf", "# a remote listener\nlisten=0.0.0.0:8780\nnode="+unreachable+"\n")
	local := write("local.conf", "listen=127.0.0.1:0\nnode="+unreachable+"\nindex="+dir+"/idx\npoll=1s\n")
	for _, c := range []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		stderr string
	}{
		{"the file applies", nil, []string{"serve", "--conf", remote}, exitUsage, "not a loopback address"},
		{"the environment beats the file", map[string]string{"MINERSCOPE_LISTEN": "127.0.0.1:0"},
			[]string{"serve", "--conf", remote}, exitNodeDown, ""},
		{"the command line beats the file", nil, []string{"serve", "--conf", remote, "--listen", "localhost:0"},
			exitNodeDown, ""},
		{"the command line beats the environment", map[string]string{"MINERSCOPE_LISTEN": "127.0.0.1:0"},
			[]string{"serve", "--conf", local, "--listen", "10.1.2.3:80"}, exitUsage, "not a loopback address"},
		{"allow-remote from the file", nil,
			[]string{"serve", "--conf", write("allow.conf", "listen=0.0.0.0:0\nallow-remote=1\nnode="+unreachable+"\n")},
			exitNodeDown, ""},
		{"--conf from the environment", map[string]string{"MINERSCOPE_CONF": remote}, []string{"serve"},
			exitUsage, "not a loopback address"},
		{"global flags in the file", nil, []string{"serve", "--conf", local}, exitNodeDown, ""},
		{"unknown key", nil, []string{"serve", "--conf", write("typo.conf", "listen=127.0.0.1:0\nlisen=x\n")},
			exitUsage, "line 2: unknown setting \"lisen\""},
		{"bad value", nil, []string{"serve", "--conf", write("bad.conf", "\npoll=often\n")}, exitUsage, "line 2: poll="},
		{"conf in the file", nil, []string{"serve", "--conf", write("conf.conf", "conf=other.conf\n")}, exitUsage,
			"unknown setting \"conf\""},
		{"missing --conf file", nil, []string{"serve", "--conf", filepath.Join(dir, "none.conf")}, exitUsage,
			"none.conf"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{"HOME": dir}
			for k, v := range c.env {
				env[k] = v
			}
			r := runCLI(t, env, c.args...)
			if r.Code != c.code || !strings.Contains(r.Stderr, c.stderr) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and %q", r.Code, r.Stderr, c.code, c.stderr)
			}
		})
	}
}

// TestServeDefaultConfig checks that ~/.minerscope/minerscope.conf is read when it exists, and that its
// absence is no error.
func TestServeDefaultConfig(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	r := runCLI(t, nil, "serve", "--node", "127.0.0.1:1", "--listen", "127.0.0.1:0")
	if r.Code != exitNodeDown {
		t.Fatalf("without a config file: exit %d\n%s", r.Code, r.Stderr)
	}
	if err := os.MkdirAll(filepath.Join(home, ".minerscope"), 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(home, ".minerscope", "minerscope.conf")
	if err := os.WriteFile(conf, []byte("listen=192.0.2.1:8780\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, nil, "serve", "--node", "127.0.0.1:1")
	if r.Code != exitUsage || !strings.Contains(r.Stderr, "not a loopback address") {
		t.Fatalf("with %s: exit %d\n%s", conf, r.Code, r.Stderr)
	}
}

func TestCheckListen(t *testing.T) {
	for _, c := range []struct {
		addr          string
		allow, remote bool
		ok            bool
	}{
		{"127.0.0.1:8780", false, false, true},
		{"localhost:8780", false, false, true},
		{"[::1]:8780", false, false, true},
		{"127.0.0.2:0", false, false, true},
		{"0.0.0.0:8780", false, true, false},
		{":8780", false, true, false},
		{"[::]:8780", false, true, false},
		{"192.168.1.5:8780", false, true, false},
		{"0.0.0.0:8780", true, true, true},
		{"example.com:80", true, true, true},
		{"127.0.0.1", false, false, false},
		{"", false, false, false},
	} {
		remote, err := checkListen(c.addr, c.allow)
		if (err == nil) != c.ok || (err == nil && remote != c.remote) {
			t.Errorf("checkListen(%q, %v) = %v, %v; want ok=%v remote=%v", c.addr, c.allow, remote, err, c.ok, c.remote)
		}
	}
}

// FuzzReadConfig checks that any input either parses into settings that each come from one line, with
// non-empty keys and no duplicates, or fails with a usage error.
func FuzzReadConfig(f *testing.F) {
	for _, s := range []string{"", "rpcuser=alice\nlisten = 127.0.0.1:9000\n", "# c\n\nallow-remote=1\n",
		"[main]\nx=1\n", "=x\n", "a=b=c\na=d\n", "--listen=x", "key\n", "k=\r\n\tv=1\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		entries, err := readConfig(strings.NewReader(text), "fuzz.conf")
		if err != nil {
			if exitCode(err) != exitUsage && !strings.Contains(err.Error(), "read fuzz.conf") {
				t.Fatalf("error %v is not a usage error", err)
			}
			return
		}
		lines := strings.Split(text, "\n")
		seen := map[string]bool{}
		for _, e := range entries {
			if e.Key == "" || seen[e.Key] || e.Line < 1 || e.Line > len(lines) {
				t.Fatalf("bad entry %+v", e)
			}
			seen[e.Key] = true
			if !strings.Contains(lines[e.Line-1], e.Key) || !strings.Contains(lines[e.Line-1], e.Value) {
				t.Fatalf("entry %+v is not on line %d: %q", e, e.Line, lines[e.Line-1])
			}
		}
	})
}
