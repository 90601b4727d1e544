// Command s3fake serves an in-memory S3 on a loopback port for bench/fleet.sh: the wire
// protocol of S3 (gofakes3), so that the store and the indexing workers run through the same
// s3blob driver and AWS SDK they use against AWS. It prints its endpoint and serves until killed.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "loopback address to serve on")
	buckets := flag.String("buckets", "source,store", "buckets to create, comma-separated")
	load := flag.String("load", "", "folder whose files go into the first bucket, keyed by their paths under it")
	flag.Parse()
	backend := s3mem.New()
	names := strings.Split(*buckets, ",")
	for _, b := range names {
		if err := backend.CreateBucket(b); err != nil {
			log.Fatal(err)
		}
	}
	if *load != "" {
		n := 0
		err := filepath.WalkDir(*load, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			key, _ := filepath.Rel(*load, p)
			n++
			_, err = backend.PutObject(names[0], filepath.ToSlash(key), map[string]string{}, bytes.NewReader(data), int64(len(data)), nil)
			return err
		})
		if err != nil {
			log.Fatal(err)
		}
		log.Printf("loaded %d objects into %s", n, names[0])
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("http://%s\n", l.Addr())
	log.Fatal(http.Serve(l, gofakes3.New(backend).Server()))
}
