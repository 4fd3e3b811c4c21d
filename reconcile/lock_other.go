//go:build !unix

package reconcile

import (
	"errors"
	"os"
)

// lockFile is not supported here: runs are not kept apart.
func lockFile(*os.File) error { return errors.New("sync: file locks need a Unix system") }
