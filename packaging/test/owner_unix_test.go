//go:build unix

package packagetest

import (
	"io/fs"
	"strconv"
	"syscall"
)

// ownerOf is "uid:gid" of a file.
func ownerOf(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return strconv.FormatUint(uint64(st.Uid), 10) + ":" + strconv.FormatUint(uint64(st.Gid), 10)
}
