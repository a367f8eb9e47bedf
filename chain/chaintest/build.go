package chaintest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

const (
	// btcdModule is the module path of btcd; its version comes from go.mod.
	btcdModule = "github.com/btcsuite/btcd"

	// btcdPkg and addblockPkg are the packages built into binaries.
	btcdPkg     = btcdModule
	addblockPkg = btcdModule + "/cmd/addblock"
)

// ErrNoModule is returned when the minerscope module (and so the pinned btcd
// version) cannot be found from the working directory.
var ErrNoModule = errors.New("chaintest: minerscope go.mod not found; " +
	"run from inside the minerscope source tree")

// Tools are the paths of the btcd binaries built from the pinned module.
type Tools struct {
	// Btcd is the btcd executable.
	Btcd string

	// Addblock is the addblock executable used to import block files.
	Addblock string

	// ModuleDir is the btcd module source directory (holds its test data).
	ModuleDir string

	// Version is the btcd module version, e.g. v0.24.2.
	Version string
}

var (
	toolsMu  sync.Mutex
	toolsVal *Tools
)

// BuildTools builds btcd and addblock from the btcd version pinned in go.mod
// into the per-user cache directory, once per process; later processes reuse
// the cached binaries. A failed build (say, a cancelled ctx) is retried by the
// next call. logf may be nil.
func BuildTools(ctx context.Context, logf func(string, ...any)) (Tools, error) {
	toolsMu.Lock()
	defer toolsMu.Unlock()

	if toolsVal != nil {
		return *toolsVal, nil
	}
	t, err := buildTools(ctx, orDiscard(logf))
	if err != nil {
		return Tools{}, err
	}
	toolsVal = &t
	return t, nil
}

func buildTools(ctx context.Context, logf func(string, ...any)) (Tools, error) {
	modRoot, err := moduleRoot(ctx)
	if err != nil {
		return Tools{}, err
	}

	t, err := btcdModuleInfo(ctx, modRoot)
	if err != nil {
		return Tools{}, err
	}

	cache, err := os.UserCacheDir()
	if err != nil {
		return Tools{}, fmt.Errorf("chaintest: no user cache dir: %w", err)
	}
	binDir := filepath.Join(cache, "minerscope", "btcd-"+t.Version)
	t.Btcd = filepath.Join(binDir, exeName("btcd"))
	t.Addblock = filepath.Join(binDir, exeName("addblock"))

	if fileExists(t.Btcd) && fileExists(t.Addblock) {
		logf("using cached btcd %s in %s", t.Version, binDir)
		return t, nil
	}

	logf("building btcd %s into %s", t.Version, binDir)
	if err := buildInto(ctx, modRoot, binDir, t.Btcd, t.Addblock); err != nil {
		return Tools{}, err
	}
	return t, nil
}

// buildInto builds btcd and addblock into the files btcd and addblock in
// binDir. It builds into a private directory and renames each binary into
// place: other test binaries may be building the same files concurrently,
// and a rename never exposes a half-written executable.
func buildInto(ctx context.Context, modRoot, binDir, btcd, addblock string) error {
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return fmt.Errorf("chaintest: %w", err)
	}
	tmp, err := os.MkdirTemp(binDir, "build-")
	if err != nil {
		return fmt.Errorf("chaintest: %w", err)
	}
	defer os.RemoveAll(tmp)

	_, err = goCmd(ctx, modRoot, "build", "-o", tmp+string(filepath.Separator),
		btcdPkg, addblockPkg)
	if err != nil {
		return err
	}
	for _, dst := range []string{btcd, addblock} {
		src := filepath.Join(tmp, filepath.Base(dst))
		if err := os.Rename(src, dst); err != nil {
			return fmt.Errorf("chaintest: install %s: %w", dst, err)
		}
	}
	return nil
}

// btcdModuleInfo returns the version and source directory of the btcd
// module the main module requires, downloading it if the module cache lacks
// it (go list reports no directory then).
func btcdModuleInfo(ctx context.Context, modRoot string) (Tools, error) {
	out, err := goCmd(ctx, modRoot, "list", "-m", "-f",
		"{{.Version}} {{.Dir}}", btcdModule)
	if err != nil {
		return Tools{}, err
	}
	version, dir, _ := strings.Cut(strings.TrimSpace(out), " ")
	if version == "" {
		return Tools{}, fmt.Errorf("chaintest: go list gave no version "+
			"for %s: %q", btcdModule, out)
	}
	if dir == "" {
		var info struct{ Dir, Error string }
		out, err := goCmd(ctx, modRoot, "mod", "download", "-json",
			btcdModule)
		if err != nil {
			return Tools{}, err
		}
		if err := json.Unmarshal([]byte(out), &info); err != nil ||
			info.Dir == "" {

			return Tools{}, fmt.Errorf("chaintest: go mod download "+
				"%s: %v %s", btcdModule, err, info.Error)
		}
		dir = info.Dir
	}
	return Tools{ModuleDir: dir, Version: version}, nil
}

// moduleRoot returns the directory of the main module's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := goCmd(ctx, "", "env", "GOMOD")
	if err != nil {
		return "", err
	}
	gomod := strings.TrimSpace(out)
	if gomod == "" || gomod == os.DevNull {
		return "", ErrNoModule
	}
	return filepath.Dir(gomod), nil
}

// goCmd runs the go command in dir and returns its stdout.
func goCmd(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("chaintest: go %s: %w: %s",
			strings.Join(args, " "), err,
			strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// orDiscard returns logf, or a function that drops everything if nil.
func orDiscard(logf func(string, ...any)) func(string, ...any) {
	if logf == nil {
		return func(string, ...any) {}
	}
	return logf
}
