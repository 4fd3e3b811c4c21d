// Package ldaptest gives tests an OpenLDAP slapd of their own.
//
// Start runs slapd (Debian's package "slapd") on free loopback ports with a
// configuration and an mdb database in the test's temporary directory, and
// stops it when the test ends. The server speaks LDAP with StartTLS and
// LDAPS, with a certificate for 127.0.0.1 and localhost signed by a CA of
// its own; it has the core, cosine, inetorgperson and nis schemas, and
// Microsoft's msuser schema for Active Directory's attributes (objectGUID,
// userAccountControl, memberOf as a user attribute) unless it runs the
// memberof overlay (WithMemberOf).
//
// Without slapd, tests skip on a developer's machine and fail when CI=true,
// so that CI never passes by skipping them. ROSTER_TEST_SLAPD names the
// binary when it is not on PATH or in /usr/sbin.
package ldaptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Suffix is the naming context of every test server.
const Suffix = "dc=example,dc=com"

// Server is a running slapd.
type Server struct {
	// URL is the plain LDAP listener (StartTLS is available on it).
	URL string
	// LDAPSURL is the LDAP over TLS listener.
	LDAPSURL string
	// CAFile is the PEM file of the CA that signed the server's
	// certificate.
	CAFile string
	// RootDN and RootPassword bind as the database's administrator, who
	// is subject to no access control or limits.
	RootDN       string
	RootPassword string

	admin *ldap.Conn // Add's connection
}

// Binary returns the path of slapd, or an error when it is not installed.
func Binary() (string, error) {
	if p := os.Getenv("ROSTER_TEST_SLAPD"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("ROSTER_TEST_SLAPD: %w", err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("slapd"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/slapd"); err == nil {
		return "/usr/sbin/slapd", nil
	}
	return "", errors.New("slapd is not installed (apt-get install slapd, or set ROSTER_TEST_SLAPD)")
}

// An Option changes the server Start runs.
type Option func(*options)

type options struct {
	config   []string
	memberOf bool
}

// WithConfig appends lines to the database's section of slapd.conf
// (limits, access).
func WithConfig(lines ...string) Option {
	return func(o *options) { o.config = append(o.config, lines...) }
}

// WithMemberOf runs OpenLDAP's memberof overlay, which keeps an
// operational memberOf on the members of groupOfNames groups, as most
// OpenLDAP directories do. The msuser schema is then left out: it defines
// memberOf too, and the overlay gives way to it.
func WithMemberOf() Option {
	return func(o *options) { o.memberOf = true }
}

// Start runs a new slapd holding only the suffix entry and stops it when
// the test ends.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	bin, err := Binary()
	if err != nil {
		Unavailable(tb, err)
	}
	dir := tb.TempDir()
	s := &Server{RootDN: "cn=admin," + Suffix, RootPassword: "secret"}
	cert, key := filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	s.CAFile = filepath.Join(dir, "ca.crt")
	if err := writeCertificates(s.CAFile, cert, key); err != nil {
		tb.Fatalf("ldaptest: certificates: %v", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		tb.Fatal(err)
	}
	conf := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(conf, []byte(slapdConf(dir, s, cert, key, o)), 0o600); err != nil {
		tb.Fatal(err)
	}

	// A port found free may be taken before slapd binds it: try again.
	var lastErr error
	for range 5 {
		ports, err := freePorts(2)
		if err != nil {
			tb.Fatalf("ldaptest: %v", err)
		}
		s.URL = fmt.Sprintf("ldap://127.0.0.1:%d", ports[0])
		s.LDAPSURL = fmt.Sprintf("ldaps://127.0.0.1:%d", ports[1])
		if lastErr = s.run(tb, bin, conf); lastErr == nil {
			s.seed(tb)
			return s
		}
	}
	tb.Fatalf("ldaptest: slapd did not start: %v", lastErr)
	return nil
}

func (s *Server) run(tb testing.TB, bin, conf string) error {
	tb.Helper()
	var log strings.Builder
	// -d 0 keeps slapd in the foreground, so that it is our child to stop.
	cmd := exec.Command(bin, "-f", conf, "-h", s.URL+"/ "+s.LDAPSURL+"/", "-d", "0")
	cmd.Stdout, cmd.Stderr = &log, &log
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("%v: %s", err, log.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", strings.TrimPrefix(s.URL, "ldap://"), time.Second); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			return fmt.Errorf("no answer on %s: %s", s.URL, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	return nil
}

func slapdConf(dir string, s *Server, cert, key string, o options) string {
	var b strings.Builder
	schemas := []string{"core", "cosine", "inetorgperson", "nis", "msuser"}
	if o.memberOf {
		schemas = schemas[:len(schemas)-1]
	}
	for _, schema := range schemas {
		fmt.Fprintf(&b, "include /etc/ldap/schema/%s.schema\n", schema)
	}
	// Debian builds the backends and overlays as modules; other builds may
	// link them in.
	if _, err := os.Stat("/usr/lib/ldap/back_mdb.so"); err == nil {
		b.WriteString("modulepath /usr/lib/ldap\nmoduleload back_mdb\n")
		if o.memberOf {
			b.WriteString("moduleload memberof\n")
		}
	}
	fmt.Fprintf(&b, "pidfile %s\n", filepath.Join(dir, "slapd.pid"))
	fmt.Fprintf(&b, "TLSCACertificateFile %s\nTLSCertificateFile %s\nTLSCertificateKeyFile %s\n", s.CAFile, cert, key)
	// Tests need no durability: without a sync per write, loading data is
	// many times faster.
	b.WriteString("database mdb\nmaxsize 33554432\ndbnosync\n")
	fmt.Fprintf(&b, "suffix %q\nrootdn %q\nrootpw %s\n", Suffix, s.RootDN, s.RootPassword)
	fmt.Fprintf(&b, "directory %s\n", filepath.Join(dir, "db"))
	if o.memberOf {
		b.WriteString("overlay memberof\n")
	}
	for _, line := range o.config {
		b.WriteString(line + "\n")
	}
	return b.String()
}

// seed adds the suffix entry.
func (s *Server) seed(tb testing.TB) {
	tb.Helper()
	s.Add(tb, Suffix, map[string][]string{
		"objectClass": {"dcObject", "organization"},
		"dc":          {"example"},
		"o":           {"Example"},
	})
}

// Conn returns a connection bound as the root DN, closed when the test
// ends.
func (s *Server) Conn(tb testing.TB) *ldap.Conn {
	tb.Helper()
	c, err := ldap.DialURL(s.URL)
	if err != nil {
		tb.Fatalf("ldaptest: dial %s: %v", s.URL, err)
	}
	tb.Cleanup(func() { c.Close() })
	if err := c.Bind(s.RootDN, s.RootPassword); err != nil {
		tb.Fatalf("ldaptest: bind: %v", err)
	}
	return c
}

// Add adds an entry as the root DN. It is not safe for concurrent use.
func (s *Server) Add(tb testing.TB, dn string, attrs map[string][]string) {
	tb.Helper()
	if s.admin == nil {
		s.admin = s.Conn(tb)
	}
	req := ldap.NewAddRequest(dn, nil)
	names := make([]string, 0, len(attrs))
	for name := range attrs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		req.Attribute(name, attrs[name])
	}
	if err := s.admin.Add(req); err != nil {
		tb.Fatalf("ldaptest: add %s: %v", dn, err)
	}
}

// Unavailable skips the test because slapd cannot be run, or fails it when
// CI=true.
func Unavailable(tb testing.TB, err error) {
	tb.Helper()
	msg := fmt.Sprintf("ldaptest: %v", err)
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
}

func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// writeCertificates writes a CA and a server certificate for 127.0.0.1 and
// localhost that it signed.
func writeCertificates(caFile, certFile, keyFile string) error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "roster ldaptest CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := writePEM(caFile, "CERTIFICATE", caDER); err != nil {
		return err
	}
	if err := writePEM(certFile, "CERTIFICATE", leafDER); err != nil {
		return err
	}
	return writePEM(keyFile, "PRIVATE KEY", keyDER)
}

func writePEM(name, typ string, der []byte) error {
	return os.WriteFile(name, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}
