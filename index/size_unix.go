//go:build unix

package index

import (
	"os"
	"syscall"
)

// diskUsage returns the bytes allocated to a file, which for Badger's sparse,
// preallocated logs is far less than their apparent size.
func diskUsage(info os.FileInfo) int64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return info.Size()
}
