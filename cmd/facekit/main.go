// Command facekit is the self-hosted face-recognition engine: it detects,
// describes and compares faces from the command line and serves
// vendor-compatible HTTP APIs (`facekit serve`).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one subcommand: its one-line summary and its entry point,
// which gets the arguments after the subcommand's name.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

func commands() map[string]command {
	return map[string]command{
		"detect":    {"detect faces in images: boxes, landmarks, pose, descriptors", runDetect},
		"compare":   {"compare the largest face of two images (distance, verdict, false-accept rate)", runCompare},
		"models":    {"show the status of the model files", runModels},
		"serve":     {"serve the vendor-compatible HTTP APIs", runServe},
		"app":       {"manage API applications (app create)", runApp},
		"enroll":    {"enroll a directory of photos into a group (resumable)", runEnroll},
		"export":    {"export an application's face library as JSON lines", runExport},
		"import":    {"import a library exported by facekit export", runImport},
		"reembed":   {"migrate a library to another descriptor model from its source crops (resumable)", runReembed},
		"eval":      {"evaluate verification accuracy on a pairs protocol (LFW)", runEval},
		"registry":  {"manage the SQLite registry-photo table (import, add, export, count)", runRegistry},
		"calibrate": {"measure the distance -> false-accept-rate curve on a labelled photo tree", runCalibrate},
	}
}

// errUsage marks an error whose message is the usage text already printed.
var errUsage = errors.New("usage")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "facekit: unknown command %q (run `facekit help`)\n", args[0])
		return 2
	}
	if err := cmd.run(args[1:], stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if !errors.Is(err, errUsage) {
			fmt.Fprintf(stderr, "facekit %s: %v\n", args[0], oneLine(err))
		}
		return 1
	}
	return 0
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: facekit <command> [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nrun `facekit <command> -h` for a command's flags")
}

// oneLine keeps error output to one line, as the CLI promises.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("facekit "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args, mapping a bad flag to errUsage (the flag package
// has already printed why).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}
