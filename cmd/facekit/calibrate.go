package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/facekit/facekit/calibration/measure"
)

// runCalibrate measures the impostor and genuine distance distributions on
// a labelled photo tree (one directory per person, e.g. LFW) and writes the
// distance -> false-accept-rate curve the vendor scores are derived from.
func runCalibrate(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("calibrate", stderr)
	cfg, err := engineConfig(fs, args)
	if err != nil {
		return err
	}
	out := fs.String("out", "", "write the fitted curve (JSON) here; serve embeds calibration/dlib_resnet_v1.json")
	cache := fs.String("cache", "", "descriptor cache file (reused when it matches the photo tree)")
	limit := fs.Int("limit", 0, "use only a subset of the people (quick check)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: facekit calibrate [flags] PHOTO_TREE   (one directory per person, e.g. ../shared/testdata/lfw/images)")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	eng, err := openEngine(*cfg)
	if err != nil {
		return err
	}
	defer eng.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	bar := newProgress(stderr, "describing")
	res, err := measure.Run(ctx, eng, measure.Config{
		Root:     fs.Arg(0),
		Cache:    *cache,
		Limit:    *limit,
		Progress: bar.update,
	})
	bar.done()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "photos %d, described %d, no face %d, unreadable %d\n\n",
		res.Stats.Photos, res.Stats.Described, res.Stats.NoFace, res.Stats.Failed)
	fmt.Fprintln(stdout, measure.Markdown(res.Table(measure.FARs)))
	if *out != "" {
		if err := measure.WriteCurve(*out, res.Curve); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "curve written to %s\n", *out)
	}
	return nil
}

// progress draws a one-line progress bar on a terminal-ish writer.
type progress struct {
	w     io.Writer
	label string
	last  int
}

func newProgress(w io.Writer, label string) *progress { return &progress{w: w, label: label, last: -1} }

func (p *progress) update(done, total int) {
	if total <= 0 {
		return
	}
	pct := done * 100 / total
	if pct == p.last {
		return
	}
	p.last = pct
	const width = 30
	filled := pct * width / 100
	bar := make([]byte, width)
	for i := range bar {
		if i < filled {
			bar[i] = '#'
		} else {
			bar[i] = '.'
		}
	}
	fmt.Fprintf(p.w, "\r%s [%s] %3d%% %d/%d", p.label, bar, pct, done, total)
}

func (p *progress) done() {
	if p.last >= 0 {
		fmt.Fprintln(p.w)
	}
}
