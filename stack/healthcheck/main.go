// healthcheck: a tiny static HTTP probe for compose healthchecks in images that have no shell or curl
// (the collector and Jaeger images are FROM scratch). Usage: healthcheck URL [URL...]
// Exits 0 when every URL answers 2xx within 3 s, else 1 with the reason on stderr.
package main

import (
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: healthcheck URL [URL...]")
		os.Exit(2)
	}
	client := &http.Client{Timeout: 3 * time.Second}
	for _, url := range os.Args[1:] {
		resp, err := client.Get(url)
		if err != nil {
			fmt.Fprintf(os.Stderr, "healthcheck: %s: %v\n", url, err)
			os.Exit(1)
		}
		resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			fmt.Fprintf(os.Stderr, "healthcheck: %s: HTTP %d\n", url, resp.StatusCode)
			os.Exit(1)
		}
	}
}
