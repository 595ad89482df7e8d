// Command gen builds the common-password Bloom filter from a list, one password a line,
// most common first (scripts/common-passwords.sh fetches SecLists' and runs this):
//
//	go run ./account/blocklist/gen -list top-100000.txt -out account/blocklist/common-passwords.bloom
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"

	"iamd/account/blocklist"
)

func main() {
	list := flag.String("list", "", "the password list, one a line")
	out := flag.String("out", "", "the filter file to write")
	rate := flag.Float64("false-positives", 1e-6, "the filter's false-positive rate per string compared")
	flag.Parse()
	if *list == "" || *out == "" {
		log.Fatal("usage: gen -list FILE -out FILE")
	}
	f, err := os.Open(*list)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	folded := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if pw := sc.Text(); pw != "" {
			folded[blocklist.Fold(pw)] = true
		}
	}
	if err := sc.Err(); err != nil {
		log.Fatal(err)
	}
	filter := blocklist.NewFilter(len(folded), *rate)
	for s := range folded {
		filter.Add(s)
	}
	data, _ := filter.MarshalBinary()
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d folded passwords, %d bytes\n", len(folded), len(data))
}
