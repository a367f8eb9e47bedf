//go:build !unix

package index

import "os"

// diskUsage returns the apparent size of a file; platforms without block
// counts may overstate Badger's sparse logs.
func diskUsage(info os.FileInfo) int64 {
	return info.Size()
}
