package reconcile_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rosterhq/roster/reconcile"
)

// TestLockKeepsRunsApart takes the lock, checks that a second process
// cannot, and that it can once the first lets go.
func TestLockKeepsRunsApart(t *testing.T) {
	if os.Getenv("ROSTER_LOCK_CHILD") != "" {
		if _, err := reconcile.Lock(os.Getenv("ROSTER_LOCK_CHILD")); errors.Is(err, reconcile.ErrLocked) {
			os.Exit(3)
		} else if err != nil {
			os.Exit(4)
		}
		os.Exit(0)
	}
	path := filepath.Join(t.TempDir(), "sync.lock")
	child := func() int {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLockKeepsRunsApart$")
		cmd.Env = append(os.Environ(), "ROSTER_LOCK_CHILD="+path)
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	}
	unlock, err := reconcile.Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	if code := child(); code != 3 {
		t.Fatalf("a second process while locked exited %d, want 3 (ErrLocked)", code)
	}
	unlock()
	if code := child(); code != 0 {
		t.Fatalf("a second process after unlock exited %d, want 0", code)
	}
}
