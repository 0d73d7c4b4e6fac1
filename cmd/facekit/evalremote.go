package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/facekit/facekit/eval"
	"github.com/facekit/facekit/eval/remote"
	"github.com/facekit/facekit/server/baidu"
	"github.com/facekit/facekit/server/linkface"
	"github.com/facekit/facekit/server/tencent"
	"github.com/facekit/facekit/store/registry/sqlitesrc"
)

// remoteFlags are the flags of `facekit eval pairs|tree --endpoint URL`.
type remoteFlags struct {
	endpoint, dialect        string
	apiKey, secretKey, appID string
	concurrency              int
	qps                      float64
	cacheDir, registryPath   string
	dryRun                   bool
	reportPath               string
	timeout                  time.Duration
}

func (f *remoteFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.endpoint, "endpoint", "", "run the pairs through this endpoint's compare call instead of in-process (e.g. http://127.0.0.1:8080)")
	fs.StringVar(&f.dialect, "dialect", "", "the endpoint's API: baidu (/v3/match), linkface (selfie_idnumber_verification) or tencent (idcardcompare)")
	fs.StringVar(&f.apiKey, "api-key", os.Getenv("FACEKIT_EVAL_API_KEY"), "Baidu API Key, Linkface api_id or Tencent SecretId (env FACEKIT_EVAL_API_KEY)")
	fs.StringVar(&f.secretKey, "secret-key", os.Getenv("FACEKIT_EVAL_SECRET_KEY"), "Baidu Secret Key, Linkface api_secret or Tencent SecretKey (env FACEKIT_EVAL_SECRET_KEY)")
	fs.StringVar(&f.appID, "app-id", os.Getenv("FACEKIT_EVAL_APP_ID"), "Tencent appid (env FACEKIT_EVAL_APP_ID)")
	fs.IntVar(&f.concurrency, "concurrency", 2, "calls in flight at once")
	fs.Float64Var(&f.qps, "qps", 2, "calls per second at most, retries included (0 = no cap beyond --concurrency)")
	fs.StringVar(&f.cacheDir, "answers", "", "answer cache directory, so an interrupted run resumes without repeating calls (default: the user cache dir; \"none\" disables)")
	fs.StringVar(&f.registryPath, "registry", "", "linkface/tencent: write the first photo of every pair into this SQLite registry under synthetic ID numbers; point the server under test at it (--registry sqlite --registry-path FILE)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print how many calls the run would make, and make none")
	fs.StringVar(&f.reportPath, "report", "", "write the endpoint report as JSON to this file (for --compare)")
	fs.DurationVar(&f.timeout, "call-timeout", 60*time.Second, "timeout of one HTTP call")
}

// endpoint builds the dialect's client.
func (f *remoteFlags) client() (remote.Endpoint, error) {
	hc := &http.Client{Timeout: f.timeout}
	if f.apiKey == "" || f.secretKey == "" {
		return nil, errors.New("--endpoint needs credentials: --api-key and --secret-key (or FACEKIT_EVAL_API_KEY / FACEKIT_EVAL_SECRET_KEY)")
	}
	switch f.dialect {
	case "baidu":
		return baidu.NewClient(f.endpoint, f.apiKey, f.secretKey, hc), nil
	case "linkface":
		return linkface.NewClient(f.endpoint, f.apiKey, f.secretKey, hc), nil
	case "tencent":
		if f.appID == "" {
			return nil, errors.New("--dialect tencent needs --app-id (or FACEKIT_EVAL_APP_ID)")
		}
		return tencent.NewClient(f.endpoint, tencent.Credential{AppID: f.appID, SecretID: f.apiKey, SecretKey: f.secretKey}, hc), nil
	}
	return nil, fmt.Errorf("--dialect %q: want baidu, linkface or tencent", f.dialect)
}

// runRemote runs pairs (photo paths relative to imagesDir) through the
// endpoint and writes its report.
func runRemote(f *remoteFlags, pairs []eval.Pair, imagesDir, data string, jsonOut bool, stdout, stderr io.Writer) error {
	ep, err := f.client()
	if err != nil {
		return err
	}
	cache := ""
	if f.cacheDir != "none" {
		if cache, err = cachePath(f.cacheDir, filepath.Join(imagesDir, "answers")); err != nil {
			return err
		}
	}
	load := func(p string) ([]byte, error) {
		if !filepath.IsAbs(p) {
			p = filepath.Join(imagesDir, p)
		}
		return os.ReadFile(p)
	}
	runner := &remote.Runner{Endpoint: ep, Concurrency: f.concurrency, QPS: f.qps, CacheDir: cache, Progress: stderr}
	if f.dryRun {
		n, err := runner.Pending(pairs)
		if err != nil {
			return err
		}
		extra := ""
		if ep.Dialect() == "baidu" && n > 0 {
			extra = " (plus one token call)"
		}
		fmt.Fprintf(stdout, "%d calls to %s (%s)%s: %d pairs, %d answered in the cache %s\n", n, ep.URL(), ep.Dialect(), extra, len(pairs), len(pairs)-n, cache)
		if ep.Registry() {
			fmt.Fprintf(stdout, "%d registry photos (the first photo of each pair)\n", len(remote.FirstPhotos(pairs)))
		}
		return nil
	}
	subjects := remote.Subjects(remote.FirstPhotos(pairs))
	ctx, stop := signalContext()
	defer stop()
	if ep.Registry() && f.registryPath != "" {
		reg, err := sqlitesrc.Open(f.registryPath)
		if err != nil {
			return fmt.Errorf("--registry: %w", err)
		}
		_, err = remote.WriteRegistry(ctx, reg, pairs, load)
		reg.Close()
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "registered %d photos in %s\n", len(subjects), f.registryPath)
	} else if ep.Registry() {
		fmt.Fprintf(stderr, "no --registry: the endpoint's registry must already hold the first photo of every pair under its synthetic ID number and the name %s\n", remote.SubjectName)
	}
	res, err := runner.Run(ctx, pairs, load, func(p string) remote.Subject { return subjects[p] })
	if err != nil {
		return fmt.Errorf("%w (answers so far are cached in %s: rerun to resume)", err, cache)
	}
	rep, err := remote.NewReport(ep, data, pairs, res)
	if err != nil {
		return err
	}
	if f.reportPath != "" {
		if err := writeFile(f.reportPath, func(w io.Writer) error { return encodeJSON(w, rep) }); err != nil {
			return err
		}
	}
	if jsonOut {
		return encodeJSON(stdout, rep)
	}
	return printRemote(stdout, rep)
}

func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printRemote(w io.Writer, r *remote.Report) error {
	m := r.Model
	fmt.Fprintf(w, "%s: %d pairs, %d answered; %d calls this run, %d from the cache, %d rate-limited answers backed off from\n", r.Label(), r.Pairs, r.Answered, r.Calls, r.Cached, r.RateLimited)
	fmt.Fprintf(w, "accuracy %.2f%% ± %.2f%% (10-fold on the score), AUC %.4f, EER %.2f%%\n", 100*m.CV.Mean, 100*m.CV.Std, m.AUC, 100*m.EER)
	for _, t := range r.Thresholds {
		fmt.Fprintf(w, "  %s: impostors accepted %d/%d (measured FAR %.4f, claimed %s), genuine accepted %d/%d (TAR %.4f)\n",
			t.VendorThreshold, t.ImpostorAccepted, t.Impostor, t.FAR, remote.ClaimText(t.ClaimedFAR), t.GenuineAccepted, t.Genuine, t.TAR)
	}
	fmt.Fprintf(w, "latency p50 %.0f ms, p99 %.0f ms; errors by code: %v\n", r.LatencyP50, r.LatencyP99, r.Errors)
	return nil
}

// runEvalCompare is `facekit eval compare REPORT.json...` (also spelled
// `facekit eval --compare ...`): several endpoints side by side.
func runEvalCompare(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	docPath := fs.String("write-doc", "", "write the Markdown table to this file (default: print it)")
	svgPath := fs.String("svg", "", "write the ROC and histogram picture (SVG) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: facekit eval --compare [--write-doc FILE] [--svg FILE] REPORT.json...")
		return errUsage
	}
	var reps []*remote.Report
	for _, p := range fs.Args() {
		r, err := remote.ReadReport(p)
		if err != nil {
			return err
		}
		reps = append(reps, r)
	}
	picture := ""
	if *svgPath != "" {
		if err := writeFile(*svgPath, func(w io.Writer) error { return remote.WriteSVG(w, reps) }); err != nil {
			return err
		}
		picture = *svgPath
		if *docPath != "" {
			if rel, err := filepath.Rel(filepath.Dir(*docPath), *svgPath); err == nil {
				picture = filepath.ToSlash(rel)
			}
		}
	}
	command := "facekit eval --compare " + shellJoin(args)
	if *docPath == "" {
		return remote.WriteMarkdown(stdout, reps, command, picture)
	}
	return writeFile(*docPath, func(w io.Writer) error { return remote.WriteMarkdown(w, reps, command, picture) })
}

// signalContext is cancelled by an interrupt, so a run stops cleanly with
// its answers cached.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}
