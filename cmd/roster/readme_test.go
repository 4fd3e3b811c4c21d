//go:build unix

package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosterhq/roster/internal/pgtest"
)

// readme is the README the test runs.
const readme = "../../README.md"

// needs are the marks of README lines that need what a test cannot have:
// a line whose comment holds one is left out.
var needs = []string{"# needs Okta", "# needs TLS files", "# needs an LDAP server"}

// shellBlock is one ```sh block of the README.
type shellBlock struct {
	line    int    // of its first command in the README
	section string // the ## heading it is under
	text    string // its lines, less those marked with needs
}

// shellBlocks returns the ```sh blocks of a Markdown document, in order.
func shellBlocks(doc string) []shellBlock {
	var blocks []shellBlock
	var section string
	var in *shellBlock
	for i, line := range strings.Split(doc, "\n") {
		switch {
		case in != nil && line == "```":
			blocks = append(blocks, *in)
			in = nil
		case in != nil:
			if !slices.ContainsFunc(needs, func(n string) bool { return strings.Contains(line, n) }) {
				in.text += line + "\n"
			}
		case line == "```sh":
			in = &shellBlock{line: i + 2, section: section}
		case strings.HasPrefix(line, "## "):
			section = strings.TrimPrefix(line, "## ")
		}
	}
	return blocks
}

func TestShellBlocksLeaveOutWhatNeedsOktaTLSOrLDAP(t *testing.T) {
	t.Parallel()
	doc := "# T\n```sh\na\n```\n## Two\ntext\n```go\nx\n```\n```sh\nb   # needs Okta\nc\nd # needs TLS files: cert.pem\ne # needs an LDAP server\n```\n"
	got := shellBlocks(doc)
	want := []shellBlock{{line: 3, text: "a\n"}, {line: 11, section: "Two", text: "c\n"}}
	if !slices.Equal(got, want) {
		t.Fatalf("shellBlocks = %+v, want %+v", got, want)
	}
}

// TestTheREADMERunsAsPasted runs every shell block of the README, in
// order, in one bash, in a folder that holds what a fresh clone holds
// (examples/), as a new user pastes them: the first block's roster serve
// in the background, as in a terminal of its own, the rest against it.
// Any command that fails (set -e), or a variable never set (set -u),
// fails the test, so that the README cannot rot.
//
// The test stands in for the go command: go run ./cmd/roster and the
// roster that go install and go build make are the test binary (see
// TestMain), and go test ./... is this run. The README's ports and
// PostgreSQL database are replaced by free ones, and its blocks under
// the PostgreSQL heading run only where PostgreSQL is (see pgtest).
func TestTheREADMERunsAsPasted(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable(t, fmt.Sprintf("the README test runs the README's commands with %s, which is not installed", tool))
		}
	}
	text, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	// A fresh clone's files that the README's commands read, and its
	// localhost:8080 replaced by a free port, as its other ports are.
	clone := t.TempDir()
	addr := freeAddr(t) // roster serve's
	replace := []string{"localhost:8080", addr}
	for _, port := range []string{"127.0.0.1:8081", "127.0.0.1:8082", "127.0.0.1:8083", "127.0.0.1:9464"} {
		replace = append(replace, port, freeAddr(t))
	}
	db := "roster_readme_" + randomHex(t)
	replace = append(replace, "-U postgres roster\n", "-U postgres "+db+"\n", "5432/roster?", "5432/"+db+"?")
	subst := strings.NewReplacer(replace...)
	if err := os.CopyFS(filepath.Join(clone, "examples"), os.DirFS(examples)); err != nil {
		t.Fatal(err)
	}
	sample := filepath.Join(clone, "examples", "sync.yaml")
	data, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sample, []byte(subst.Replace(string(data))), 0o644); err != nil {
		t.Fatal(err)
	}

	var pgSkipped string
	var script strings.Builder
	script.WriteString(readmePrelude)
	for _, b := range shellBlocks(string(text)) {
		if strings.HasPrefix(b.section, "PostgreSQL") {
			if pgSkipped = postgresForREADME(t, db); pgSkipped != "" {
				continue
			}
		}
		fmt.Fprintf(&script, "\n: README.md line %d, %s\n%s", b.line, b.section, subst.Replace(b.text))
	}
	script.WriteString(readmeEpilogue)

	home := t.TempDir()
	bin := filepath.Dir(rosterCommand(t))
	serveLog := filepath.Join(home, "serve.log")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir = clone
	cmd.Env = []string{
		"PATH=" + bin + ":/usr/local/bin:/usr/bin:/bin",
		"HOME=" + home, "XDG_CACHE_HOME=" + filepath.Join(home, "cache"), "GOPATH=" + filepath.Join(home, "go"), "TMPDIR=" + os.TempDir(),
		"README_ADDR=" + addr, "README_SERVE_LOG=" + serveLog, quickExit(),
	}
	// Its own process group, so that what it leaves running is stopped.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if err != nil {
		logs, _ := os.ReadFile(serveLog)
		t.Fatalf("the README failed (%v) at its last command below:\n%s\nroster serve's log:\n%s", err, tail(out.String(), 80), logs)
	}
	logs, err := os.ReadFile(serveLog)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)msg=stopped reason="terminated signal received"`).Match(logs) {
		t.Errorf("roster serve did not say it stopped on SIGTERM:\n%s", logs)
	}
	if pgSkipped != "" {
		unavailable(t, "the README ran, but not its PostgreSQL blocks: "+pgSkipped)
	}
}

// readmePrelude makes bash stop at the first command that fails, curl at
// an HTTP error status as at any other failure, and stands in for the go
// command (see TestTheREADMERunsAsPasted).
const readmePrelude = `set -euo pipefail
export PS4='+ '
set -x
curl() {
	case " $* " in
	*" -f "* | *" -sf "* | *" --fail "*) command curl "$@" ;;
	*) command curl --fail-with-body "$@" ;;
	esac
}
go() {
	case "$1 ${2:-}" in
	"run ./cmd/roster")
		shift 2
		if [ "${1:-}" = serve ]; then
			# A terminal of its own: in the background, until it listens.
			shift
			roster serve --addr "$README_ADDR" "$@" >>"$README_SERVE_LOG" 2>&1 &
			local pid=$!
			until grep -q 'msg="serving SCIM"' "$README_SERVE_LOG"; do
				kill -0 $pid 2>/dev/null || { cat "$README_SERVE_LOG"; return 1; }
				sleep 0.05
			done
			return
		fi
		roster "$@" ;;
	"install ./cmd/roster") ;; # roster is on PATH: the test binary
	"build -o") [ "$4" = ./cmd/roster ] && ln -s "$(command -v roster)" "$3" ;;
	"env GOPATH") echo "$GOPATH" ;;
	"test ./...") echo "(go test ./... is what runs this)" ;;
	*) echo "the README test has no stand-in for go $*" >&2; return 1 ;;
	esac
}
`

// readmeEpilogue stops what the README left running (roster serve,
// replicas) with SIGTERM, as a user would, and waits for each to exit 0.
const readmeEpilogue = `
: the end of the README
for pid in $(jobs -p); do kill -TERM $pid; done
for pid in $(jobs -p); do wait $pid; done
`

// postgresForREADME creates the database the README's PostgreSQL blocks
// use, named db, and drops it when the test ends; it returns why they
// cannot run instead, if they cannot.
func postgresForREADME(t *testing.T, db string) string {
	t.Helper()
	if pgtest.ServerURL() != pgtest.DefaultURL {
		return "the README's commands use the PostgreSQL at 127.0.0.1:5432, and ROSTER_TEST_POSTGRES names another"
	}
	if _, err := exec.LookPath("createdb"); err != nil {
		return "createdb (PostgreSQL's client) is not installed"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgtest.DefaultURL)
	if err != nil {
		return fmt.Sprintf("PostgreSQL is not reachable at %s: %v", pgtest.DefaultURL, err)
	}
	conn.Close(ctx)
	t.Cleanup(func() { pgtest.Drop(t, db) }) // createdb, in the README, creates it
	return ""
}

// unavailable skips the test for want of what it names, or fails it when
// CI=true.
func unavailable(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// freeAddr returns a loopback address with a port nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// randomHex returns 12 random hex digits.
func randomHex(t *testing.T) string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
