package reconcile

import (
	"errors"
	"fmt"
	"os"
)

// ErrLocked is returned by Lock when another run holds the lock.
var ErrLocked = errors.New("sync: another run holds the lock")

// Lock takes the lock file at path, so that two runs against one target
// (two processes, or a daemon and a manual run) never overlap. It returns
// ErrLocked at once if another process holds it; the lock goes when
// unlock is called or the process ends, even if it crashes.
func Lock(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sync: lock %s: %w", path, err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, err
	}
	f.Truncate(0)
	fmt.Fprintf(f, "%d\n", os.Getpid())
	return func() { f.Close() }, nil
}
