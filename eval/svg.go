package eval

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
)

// palette holds distinguishable line colours (Okabe–Ito, safe for colour
// blindness).
var palette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"}

// WriteSVG draws the report: the ROC of every model on a log-FAR axis, and
// one genuine/impostor distance histogram per model, with the mean fold
// threshold marked.
func WriteSVG(w io.Writer, rep *Report) error {
	models := append([]ModelReport(nil), rep.Models...)
	if rep.Fusion != nil {
		models = append(models, *rep.Fusion)
	}
	const (
		rocX, rocY, rocW, rocH = 60.0, 40.0, 400.0, 360.0
		histX0, histW, histH   = 530.0, 210.0, 140.0
		histGapX, histGapY     = 40.0, 60.0
	)
	rows := (len(models) + 1) / 2
	width := histX0 + 2*histW + histGapX + 20
	height := math.Max(rocY+rocH+56+14*float64(len(models)), rocY+float64(rows)*(histH+histGapY)+20)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="11">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%.0f" y="22" font-size="14" font-weight="bold">Verification: %d pairs (%d genuine, %d impostor), %d folds</text>`+"\n", rocX, rep.Pairs, rep.Genuine, rep.Impostor, rep.Folds)

	// ROC: x = log10 FAR over [1e-4, 1], y = TAR over [yMin, 1].
	yMin := 1.0
	for _, m := range models {
		if t, ok := m.TARAt(1e-3); ok {
			yMin = math.Min(yMin, t.TAR)
		}
	}
	yMin = math.Max(0, math.Floor((yMin-0.05)*10)/10)
	const logMin = -4.0
	px := func(far float64) float64 {
		l := math.Log10(math.Max(far, math.Pow(10, logMin)))
		return rocX + (l-logMin)/(-logMin)*rocW
	}
	py := func(tar float64) float64 { return rocY + (1-(math.Max(tar, yMin)-yMin)/(1-yMin))*rocH }
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#888"/>`+"\n", rocX, rocY, rocW, rocH)
	for e := logMin; e <= 0; e++ {
		x := px(math.Pow(10, e))
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`, x, rocY, x, rocY+rocH)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">1e%d</text>`+"\n", x, rocY+rocH+14, int(e))
	}
	for k := 0; k <= 5; k++ {
		t := yMin + float64(k)/5*(1-yMin)
		y := py(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`, rocX, y, rocX+rocW, y)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%.2f</text>`+"\n", rocX-4, y+4, t)
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">false accept rate (log)</text>`+"\n", rocX+rocW/2, rocY+rocH+30)
	fmt.Fprintf(&b, `<text transform="translate(%.1f %.1f) rotate(-90)" text-anchor="middle">true accept rate</text>`+"\n", rocX-40, rocY+rocH/2)
	for i, m := range models {
		col := palette[i%len(palette)]
		// The ROC of finite data is a staircase: from each corner, across
		// to the next FAR, then up to its TAR.
		var pts bytes.Buffer
		var prev *ROCPoint
		for k := range m.ROC {
			p := &m.ROC[k]
			if p.FAR <= 0 {
				continue // log axis: the accept-nothing end has no position
			}
			if prev != nil {
				fmt.Fprintf(&pts, "%.1f,%.1f ", px(p.FAR), py(prev.TAR))
			}
			fmt.Fprintf(&pts, "%.1f,%.1f ", px(p.FAR), py(p.TAR))
			prev = p
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", col, bytes.TrimSpace(pts.Bytes()))
		ly := rocY + rocH + 48 + float64(i)*14
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="3"/>`, rocX, ly-4, rocX+18, ly-4, col)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s  %.2f%% ± %.2f</text>`+"\n", rocX+24, ly, esc(m.Model), 100*m.CV.Mean, 100*m.CV.Std)
	}

	// Histograms, two per row.
	for i, m := range models {
		x0 := histX0 + float64(i%2)*(histW+histGapX)
		y0 := rocY + float64(i/2)*(histH+histGapY)
		writeHistogram(&b, m, x0, y0, histW, histH, palette[i%len(palette)])
	}
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	if err != nil {
		return fmt.Errorf("eval: write svg: %w", err)
	}
	return nil
}

func writeHistogram(b *bytes.Buffer, m ModelReport, x0, y0, w, h float64, col string) {
	hg := m.Histogram
	n := len(hg.Genuine)
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-weight="bold">%s</text>`+"\n", x0, y0-6, esc(m.Model))
	fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#888"/>`+"\n", x0, y0, w, h)
	if n == 0 {
		return
	}
	// Each class is normalised to its own total so that 3000 genuine and
	// 3000 impostor pairs (or a lopsided plain list) compare by shape.
	var tg, ti, peak float64
	for k := 0; k < n; k++ {
		tg += float64(hg.Genuine[k])
		ti += float64(hg.Impostor[k])
	}
	frac := func(c int, t float64) float64 {
		if t == 0 {
			return 0
		}
		return float64(c) / t
	}
	for k := 0; k < n; k++ {
		peak = math.Max(peak, math.Max(frac(hg.Genuine[k], tg), frac(hg.Impostor[k], ti)))
	}
	bw := w / float64(n)
	for k := 0; k < n; k++ {
		for _, s := range []struct {
			c     int
			t     float64
			color string
		}{{hg.Genuine[k], tg, "#009E73"}, {hg.Impostor[k], ti, "#D55E00"}} {
			bh := frac(s.c, s.t) / math.Max(peak, 1e-12) * (h - 4)
			if bh <= 0 {
				continue
			}
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="0.55" stroke="none"/>`, x0+float64(k)*bw, y0+h-bh, bw, bh, s.color)
		}
	}
	b.WriteString("\n")
	hi := hg.Min + hg.Width*float64(n)
	var thr float64
	for _, f := range m.CV.Folds {
		thr += f.Threshold
	}
	if len(m.CV.Folds) > 0 && hi > hg.Min {
		thr /= float64(len(m.CV.Folds))
		tx := x0 + (thr-hg.Min)/(hi-hg.Min)*w
		if tx >= x0 && tx <= x0+w {
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="4 3"/>`+"\n", tx, y0, tx, y0+h, col)
		}
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f">%.3g</text><text x="%.1f" y="%.1f" text-anchor="end">%.3g</text>`+"\n", x0, y0+h+13, hg.Min, x0+w, y0+h+13, hi)
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" fill="#009E73">genuine</text><text x="%.1f" y="%.1f" fill="#D55E00" text-anchor="end">impostor</text>`+"\n", x0+4, y0+13, x0+w-4, y0+13)
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">distance (dashed: threshold)</text>`+"\n", x0+w/2, y0+h+26)
}

func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s)) // writes to memory: cannot fail
	return b.String()
}
