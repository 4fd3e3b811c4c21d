package reconcile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// State is what the sync remembers between runs: the users and groups it
// created or adopted in the target (it never touches others), and when it
// deactivated each user, for the grace period before a delete. It is kept
// in a JSON file.
type State struct {
	path   string
	Users  map[string]*Owned `json:"users"`
	Groups map[string]*Owned `json:"groups"`
	// AfterSave, if set, is called by every Save once the file is
	// written, with what it holds: a copy kept elsewhere (a database)
	// stays in step with the file, the saves of a run that dies midway
	// included.
	AfterSave func(data []byte) error `json:"-"`
}

// Owned is one user or group the sync manages, by its externalId.
type Owned struct {
	Since         time.Time `json:"since"`
	Deprovisioned time.Time `json:"deprovisioned,omitzero"`
}

// LoadState reads the state file at path; a missing file is an empty
// state.
func LoadState(path string) (*State, error) {
	st := &State{path: path, Users: map[string]*Owned{}, Groups: map[string]*Owned{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sync state: %w", err)
	}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("sync state %s: %w", path, err)
	}
	if st.Users == nil {
		st.Users = map[string]*Owned{}
	}
	if st.Groups == nil {
		st.Groups = map[string]*Owned{}
	}
	return st, nil
}

// Save writes the state, replacing the file atomically.
func (s *State) Save() error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".sync-state-*")
	if err != nil {
		return fmt.Errorf("sync state: %w", err)
	}
	defer os.Remove(tmp.Name())
	// Written, flushed to disk, then renamed over the old file, and the
	// directory flushed: a crash leaves the old state or the new, never an
	// empty or half-written file.
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("sync state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("sync state: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("sync state: %w", err)
	}
	if d, err := os.Open(filepath.Dir(s.path)); err == nil {
		d.Sync() // best effort: not every system can sync a directory
		d.Close()
	}
	if s.AfterSave != nil {
		if err := s.AfterSave(data); err != nil {
			return fmt.Errorf("sync state: %s is saved, but: %w", s.path, err)
		}
	}
	return nil
}

func (s *State) ownsUser(id string) bool  { return s.Users[id] != nil }
func (s *State) ownsGroup(id string) bool { return s.Groups[id] != nil }

func (s *State) deprovisionedBefore(id string, t time.Time) bool {
	o := s.Users[id]
	return o != nil && !o.Deprovisioned.IsZero() && o.Deprovisioned.Before(t)
}
