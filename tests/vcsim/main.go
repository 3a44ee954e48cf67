// Command vcsim runs govmomi's vCenter simulator (VPX model) on loopback for veba-sdk's tests.
//
// It prints one line, "VCSIM_URL=https://user:pass@127.0.0.1:PORT/sdk", then
// "VCSIM_CERT=PATH" (the server certificate, PEM), and serves until SIGTERM/SIGINT.
// Built by tests/vcsim/build.sh against Debian's golang-github-vmware-govmomi-dev.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (loopback)")
	plain := flag.Bool("http", false, "serve plain HTTP instead of HTTPS")
	user := flag.String("username", "user", "login user name")
	pass := flag.String("password", "pass", "login password")
	flag.Parse()

	model := simulator.VPX()
	if err := model.Create(); err != nil {
		log.Fatalf("create model: %v", err)
	}
	defer model.Remove()

	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(*user, *pass)}
	if !*plain {
		// A P-256 certificate for 127.0.0.1: the simulator's built-in test certificate has a
		// 1024-bit RSA key, which OpenSSL's default security level refuses to verify.
		model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{loopbackCertificate()}}
	}
	server := model.Service.NewServer()
	defer server.Close()

	fmt.Printf("VCSIM_URL=%s\n", server.URL.String())
	if !*plain {
		cert, err := server.CertificateFile()
		if err != nil {
			log.Fatalf("certificate: %v", err)
		}
		fmt.Printf("VCSIM_CERT=%s\n", cert)
	}
	os.Stdout.Sync()

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}

// loopbackCertificate returns a fresh self-signed certificate (it is its own CA) for
// 127.0.0.1, ::1 and localhost.
func loopbackCertificate() tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatalf("key: %v", err)
	}
	template := x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "vcsim", Organization: []string{"veba-sdk tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, &template, &template, &key.PublicKey, key)
	if err != nil {
		log.Fatalf("certificate: %v", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
