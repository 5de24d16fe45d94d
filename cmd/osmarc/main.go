// Command osmarc archives the official social media accounts of an
// organisation as records. See the README for the commands.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
