package remote_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/facekit/facekit/calibration"
	"github.com/facekit/facekit/descriptor"
	"golang.org/x/image/draw"

	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/eval"
	"github.com/facekit/facekit/eval/remote"
	"github.com/facekit/facekit/internal/testenv"
	"github.com/facekit/facekit/server"
	"github.com/facekit/facekit/server/baidu"
	"github.com/facekit/facekit/server/linkface"
	"github.com/facekit/facekit/server/tencent"
	"github.com/facekit/facekit/service"
	"github.com/facekit/facekit/store/registry/sqlitesrc"
	"github.com/facekit/facekit/store/sqlite"
)

// treePhotos is the small labelled tree the tests run: three people with
// several photos and two with one, all single-face photos, so the in-process
// evaluation pairs exactly the photos the endpoint is sent.
var treePhotos = []string{"jimin.jpg", "jimin2.jpg", "jimin6.jpg", "bona.jpg", "bona2.jpg", "tzuyu.jpg", "tzuyu2.jpg"}

const tencentAppID = "1250000000"

// fixture is the photo tree, its pairs and a running facekit server with
// all three dialects over a registry holding the first photo of each pair.
type fixture struct {
	root   string
	pairs  []eval.Pair
	load   remote.Load
	subj   map[string]remote.Subject
	base   string
	apiKey string
	secret string
}

func (f *fixture) subject(p string) remote.Subject { return f.subj[p] }

// countingTransport counts the HTTP calls a client makes.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func (f *fixture) client(dialect string, rt http.RoundTripper) remote.Endpoint {
	hc := &http.Client{Timeout: 2 * time.Minute, Transport: rt}
	switch dialect {
	case "baidu":
		return baidu.NewClient(f.base, f.apiKey, f.secret, hc)
	case "linkface":
		return linkface.NewClient(f.base, f.apiKey, f.secret, hc)
	default:
		return tencent.NewClient(f.base, tencent.Credential{AppID: tencentAppID, SecretID: f.apiKey, SecretKey: f.secret}, hc)
	}
}

// newFixture writes the tree and starts the real server on 127.0.0.1:0
// (SQLite library, SQLite registry written by remote.WriteRegistry, the
// shared engine). cfg sets the server's limits.
func newFixture(t *testing.T, cfg service.Config) *fixture {
	t.Helper()
	eng := testenv.Engine(t)
	f := &fixture{root: t.TempDir()}
	for _, n := range treePhotos {
		if err := os.WriteFile(filepath.Join(f.root, n), shrink(t, testenv.Photo(t, n), 640), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ims, err := eval.ScanTree(f.root, eval.TreeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.pairs, _ = eval.TreePairs(ims, nil, false)
	f.load = func(p string) ([]byte, error) { return os.ReadFile(filepath.Join(f.root, p)) }

	dir := t.TempDir()
	db, err := sqlite.Open(filepath.Join(dir, "facekit.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	app, secret, err := db.CreateApp(context.Background(), "eval")
	if err != nil {
		t.Fatal(err)
	}
	f.apiKey, f.secret = app.APIKey, secret
	reg, err := sqlitesrc.Open(filepath.Join(dir, "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	if f.subj, err = remote.WriteRegistry(context.Background(), reg, f.pairs, f.load); err != nil {
		t.Fatal(err)
	}
	resnet, err := descriptor.Open(descriptor.ResNet, descriptor.Env{Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(cfg, service.Deps{
		Engine: eng, Descriptor: resnet, Library: db, Searcher: db, Apps: db, FaceTokens: db, Sessions: db, Registry: reg,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{}, svc,
		baidu.New(), linkface.New(linkface.Config{}),
		tencent.New(tencent.Config{Credentials: []tencent.Credential{{AppID: tencentAppID, SecretID: app.APIKey, SecretKey: secret}}}))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	f.base = "http://" + ln.Addr().String()
	return f
}

// shrink re-encodes a photo with its longer side at most side pixels, so
// the detector's cost (which grows with the pixels) fits a shared 2-core
// machine; the faces stay well above HOG's 80-pixel minimum.
func shrink(t *testing.T, data []byte, side int) []byte {
	t.Helper()
	img, err := imageio.Decode(data, imageio.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	w, h := img.Width, img.Height
	if max(w, h) > side {
		if w >= h {
			w, h = side, h*side/w
		} else {
			w, h = w*side/h, side
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Src, nil)
	var b bytes.Buffer
	if err := jpeg.Encode(&b, dst, &jpeg.Options{Quality: 92}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// inProcess is `facekit eval tree` on the same photos: the default model's
// distance of every pair, in pair order.
func inProcess(t *testing.T, f *fixture) []eval.Score {
	t.Helper()
	eng := testenv.Engine(t)
	d, err := descriptor.Open(descriptor.ResNet, descriptor.Env{Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	emb := &eval.Embedder{Engine: eng, Describers: []descriptor.Describer{d}, ImagesDir: f.root, TimeFaces: 1, Single: true}
	res, err := emb.Run(context.Background(), treePhotos)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) != 0 {
		t.Fatalf("test photos skipped in-process: %v", res.Skipped)
	}
	info, _ := descriptor.Lookup(descriptor.ResNet)
	scores, err := eval.Scores(f.pairs, res.Vectors[descriptor.ResNet], info.Metric)
	if err != nil {
		t.Fatal(err)
	}
	return scores
}

// TestEndpointsEqualInProcess runs the tree through facekit's own server in
// all three dialects and checks every number against the in-process
// evaluation of the same model: each pair's score within the vendor's
// rounding, the documented thresholds' accept counts, the 10-fold accuracy
// on the score, and the AUC up to the ties the rounding makes.
func TestEndpointsEqualInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 21 pairs through three dialects of a real server")
	}
	f := newFixture(t, service.Config{})
	ref := inProcess(t, f)
	curve, err := calibration.ForModel(descriptor.ResNet)
	if err != nil {
		t.Fatal(err)
	}
	refReport, err := eval.Measure("in-process", ref)
	if err != nil {
		t.Fatal(err)
	}
	var reportFiles []string
	reportDir := t.TempDir()
	for _, dialect := range []string{"baidu", "linkface", "tencent"} {
		t.Run(dialect, func(t *testing.T) {
			ep := f.client(dialect, nil)
			r := &remote.Runner{Endpoint: ep, Concurrency: 2}
			res, err := r.Run(context.Background(), f.pairs, f.load, f.subject)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := remote.NewReport(ep, "test tree", f.pairs, res)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Answered != len(f.pairs) || len(rep.Errors) != 0 {
				t.Fatalf("%d of %d answered, errors %v", rep.Answered, len(f.pairs), rep.Errors)
			}
			vts := ep.Thresholds()
			unit := 0.01 // two decimals
			if dialect == "linkface" {
				unit = 1e-6
			}
			// What the endpoint should answer: the in-process distance
			// through the model's curve and the dialect's scale.
			want := make([]float64, len(ref))
			same := make([]bool, len(ref))
			var nearThreshold bool
			for i, s := range ref {
				want[i], same[i] = vts[0].Score(curve.FAR(s.Distance)), s.Same
				got := res.Answers[i].Score
				if math.Abs(got-want[i]) > unit+1e-9 {
					t.Errorf("pair %s / %s: endpoint %v, in-process %v", f.pairs[i].A, f.pairs[i].B, got, want[i])
				}
				for _, v := range vts {
					nearThreshold = nearThreshold || math.Abs(want[i]-v.Threshold) <= unit
				}
			}
			if !nearThreshold {
				wantRates := eval.VendorRates(vts, want, same)
				for k, g := range rep.Thresholds {
					w := wantRates[k]
					if g.ImpostorAccepted != w.ImpostorAccepted || g.GenuineAccepted != w.GenuineAccepted || g.Impostor != w.Impostor || g.Genuine != w.Genuine {
						t.Errorf("%s: endpoint accepts %d/%d impostors and %d/%d genuine, in-process %d/%d and %d/%d",
							g.VendorThreshold, g.ImpostorAccepted, g.Impostor, g.GenuineAccepted, g.Genuine, w.ImpostorAccepted, w.Impostor, w.GenuineAccepted, w.Genuine)
					}
				}
			}
			// The protocol on the in-process scores gives the same report.
			sc := make([]eval.Score, len(want))
			for i := range want {
				sc[i] = eval.Score{Distance: remote.Distance(want[i], ep.Scale()), Same: same[i], Fold: ref[i].Fold}
			}
			wantM, err := eval.Measure("in-process score", sc)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Model.CV.Mean != wantM.CV.Mean || rep.Model.AUC != wantM.AUC {
				t.Errorf("accuracy %.4f AUC %.4f, in-process on the score %.4f %.4f", rep.Model.CV.Mean, rep.Model.AUC, wantM.CV.Mean, wantM.AUC)
			}
			// Against the distances themselves the AUC differs only by the
			// (genuine, impostor) pairs the score's rounding and clamping
			// tie, each worth half a pair.
			var ties, n float64
			for i := range want {
				for j := range want {
					if same[i] && !same[j] {
						n++
						if want[i] == want[j] {
							ties++
						}
					}
				}
			}
			if d := math.Abs(rep.Model.AUC - refReport.AUC); d > ties/n/2+1e-9 {
				t.Errorf("AUC %.4f on the endpoint's score, %.4f on in-process distances: differs by more than the %v tied pairs allow", rep.Model.AUC, refReport.AUC, ties)
			}
			if rep.LatencyP50 <= 0 || rep.LatencyP99 < rep.LatencyP50 {
				t.Errorf("latency p50 %v p99 %v", rep.LatencyP50, rep.LatencyP99)
			}
			t.Logf("%s: accuracy %.3f, AUC %.4f (in-process distances %.4f), thresholds %+v", dialect, rep.Model.CV.Mean, rep.Model.AUC, refReport.AUC, rep.Thresholds[0])
			data, err := json.Marshal(rep)
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(reportDir, dialect+".json")
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			reportFiles = append(reportFiles, p)
		})
	}
	// The side-by-side report reads the JSON back: one row per endpoint
	// with its accuracy, and a picture with one curve each.
	var reps []*remote.Report
	for _, p := range reportFiles {
		r, err := remote.ReadReport(p)
		if err != nil {
			t.Fatal(err)
		}
		reps = append(reps, r)
	}
	var md, svg bytes.Buffer
	if err := remote.WriteMarkdown(&md, reps, "test", "x.svg"); err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteSVG(&svg, reps); err != nil {
		t.Fatal(err)
	}
	for _, r := range reps {
		row := fmt.Sprintf("| %s | test tree | %d | %d | %.2f%% ±", r.Label(), r.Pairs, r.Answered, 100*r.Model.CV.Mean)
		if !strings.Contains(md.String(), row) {
			t.Errorf("markdown lacks the row %q:\n%s", row, md.String())
		}
		if !strings.Contains(svg.String(), r.Label()) {
			t.Errorf("SVG does not name %s", r.Label())
		}
	}
}

// TestRateLimitBackoff runs against a server limited to 2 calls per second
// (burst 1) with an unthrottled client of concurrency 2: the server answers
// its rate-limit code, the runner backs off and retries, and every pair ends
// with a score.
func TestRateLimitBackoff(t *testing.T) {
	if testing.Short() {
		t.Skip("runs pairs through a real server")
	}
	f := newFixture(t, service.Config{QPS: 2, Burst: 1})
	pairs := f.pairs[:6]
	for _, dialect := range []string{"baidu", "linkface", "tencent"} {
		t.Run(dialect, func(t *testing.T) {
			time.Sleep(time.Second) // the previous subtest's calls drained the shared bucket
			ep := f.client(dialect, nil)
			r := &remote.Runner{Endpoint: ep, Concurrency: 2, Backoff: 100 * time.Millisecond}
			res, err := r.Run(context.Background(), pairs, f.load, f.subject)
			if err != nil {
				t.Fatal(err)
			}
			if res.RateLimited == 0 {
				t.Errorf("no rate-limit answer seen from a server limited to 2 QPS with burst 1")
			}
			for i, a := range res.Answers {
				if !a.OK() {
					t.Errorf("pair %d ended with code %s (%s)", i, a.Code, a.Message)
				}
			}
			if res.Calls != len(pairs)+res.RateLimited {
				t.Errorf("%d calls for %d pairs and %d rate-limit answers", res.Calls, len(pairs), res.RateLimited)
			}
		})
	}
	// A client capped at 1 call per second stays under the server's 2 and
	// is never refused (the server's bucket refills twice between calls,
	// which leaves half a second for scheduling jitter).
	t.Run("qps", func(t *testing.T) {
		time.Sleep(time.Second)
		r := &remote.Runner{Endpoint: f.client("baidu", nil), Concurrency: 2, QPS: 1}
		res, err := r.Run(context.Background(), pairs[:4], f.load, f.subject)
		if err != nil {
			t.Fatal(err)
		}
		if res.RateLimited != 0 {
			t.Errorf("%d rate-limit answers to a client at 1 QPS", res.RateLimited)
		}
	})
}

// TestCacheResume interrupts a run after a few answers, then reruns it: the
// rerun calls the endpoint only for the pairs without a cached answer, and
// the result equals a run without interruption.
func TestCacheResume(t *testing.T) {
	if testing.Short() {
		t.Skip("runs pairs through a real server")
	}
	f := newFixture(t, service.Config{})
	pairs := f.pairs[:10]
	cache := t.TempDir()
	var first countingTransport
	ep := f.client("linkface", &first)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &remote.Runner{Endpoint: ep, Concurrency: 2, CacheDir: cache, OnAnswer: func(done int) {
		if done == 4 {
			cancel()
		}
	}}
	if _, err := r.Run(ctx, pairs, f.load, f.subject); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v, want context.Canceled", err)
	}
	pending, err := (&remote.Runner{Endpoint: ep, CacheDir: cache}).Pending(pairs)
	if err != nil {
		t.Fatal(err)
	}
	if pending > len(pairs)-4 || pending == 0 {
		t.Fatalf("dry run after the interruption: %d calls pending of %d pairs, want at most %d and some", pending, len(pairs), len(pairs)-4)
	}

	var second countingTransport
	r = &remote.Runner{Endpoint: f.client("linkface", &second), Concurrency: 2, CacheDir: cache}
	res, err := r.Run(context.Background(), pairs, f.load, f.subject)
	if err != nil {
		t.Fatal(err)
	}
	if got := int(second.n.Load()); got != pending || res.Calls != pending || res.Cached != len(pairs)-pending {
		t.Errorf("resumed run made %d HTTP calls (%d counted by the runner, %d cached), want %d", got, res.Calls, res.Cached, pending)
	}
	// A third run is all cache.
	var third countingTransport
	again, err := (&remote.Runner{Endpoint: f.client("linkface", &third), CacheDir: cache}).Run(context.Background(), pairs, f.load, f.subject)
	if err != nil {
		t.Fatal(err)
	}
	if third.n.Load() != 0 || again.Cached != len(pairs) {
		t.Errorf("complete cache: %d calls, %d cached", third.n.Load(), again.Cached)
	}
	// Same answers as an uninterrupted run without a cache.
	clean, err := (&remote.Runner{Endpoint: f.client("linkface", nil), Concurrency: 2}).Run(context.Background(), pairs, f.load, f.subject)
	if err != nil {
		t.Fatal(err)
	}
	for i := range pairs {
		if res.Answers[i].Score != clean.Answers[i].Score || res.Answers[i].Code != clean.Answers[i].Code {
			t.Errorf("pair %d: resumed %+v, clean %+v", i, res.Answers[i], clean.Answers[i])
		}
	}
}

// TestBaiduTokenRefresh starts with a token the server does not know: the
// client gets 110, fetches a token and repeats the call.
func TestBaiduTokenRefresh(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a pair through a real server")
	}
	f := newFixture(t, service.Config{})
	c := baidu.NewClient(f.base, f.apiKey, f.secret, nil)
	c.SetToken("24.0123456789abcdef0123456789abcdef.2592000.1700000000.282335-00000000")
	a, err := f.load(f.pairs[0].A)
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.load(f.pairs[0].B)
	if err != nil {
		t.Fatal(err)
	}
	ans, err := c.Compare(context.Background(), remote.Call{A: a, B: b})
	if err != nil || !ans.OK() {
		t.Fatalf("compare with a stale token: %+v, %v", ans, err)
	}
	if c.TokenFetches != 1 {
		t.Errorf("%d token fetches, want 1 (after the 110)", c.TokenFetches)
	}
	// Wrong credentials are a transport-level failure naming the refusal.
	bad := baidu.NewClient(f.base, f.apiKey, "wrong", nil)
	if _, err := bad.Compare(context.Background(), remote.Call{A: a, B: b}); err == nil {
		t.Error("wrong secret key: no error")
	}
}
