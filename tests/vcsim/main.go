// Command vcsim runs govmomi's vCenter simulator (VPX model) on loopback for veba-sdk's tests.
//
// It prints one line, "VCSIM_URL=https://user:pass@127.0.0.1:PORT/sdk", then
// "VCSIM_CERT=PATH" (the server certificate, PEM), and serves until SIGTERM/SIGINT.
// Built by tests/vcsim/build.sh against Debian's golang-github-vmware-govmomi-dev.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/signal"
	"syscall"

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
		model.Service.TLS = new(tls.Config)
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
