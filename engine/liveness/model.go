package liveness

import "math"

// logistic is a logistic regression over standardised features:
// P(live) = σ(b + Σ w_i (x_i - mean_i)/std_i). Features with weight 0 are
// not used.
type logistic struct {
	Mean, Std, W [numFeatures]float64
	B            float64
}

func (m *logistic) prob(x [numFeatures]float64) float64 {
	z := m.B
	for i := range x {
		if m.W[i] != 0 && m.Std[i] > 0 {
			z += m.W[i] * (x[i] - m.Mean[i]) / m.Std[i]
		}
	}
	return 1 / (1 + math.Exp(-z))
}

// fitLogistic fits a logistic regression with an L2 penalty lambda by
// Newton's method on the features selected by use; y is 1 for live.
// It is deterministic (no random start).
func fitLogistic(xs [][numFeatures]float64, y []float64, use [numFeatures]bool, lambda float64) logistic {
	var m logistic
	n := float64(len(xs))
	for i := 0; i < numFeatures; i++ {
		var s, ss float64
		for _, x := range xs {
			s += x[i]
		}
		m.Mean[i] = s / n
		for _, x := range xs {
			d := x[i] - m.Mean[i]
			ss += d * d
		}
		m.Std[i] = math.Sqrt(ss / n)
		if m.Std[i] == 0 {
			m.Std[i] = 1
		}
	}
	idx := []int{}
	for i, u := range use {
		if u {
			idx = append(idx, i)
		}
	}
	k := len(idx) + 1 // + bias
	beta := make([]float64, k)
	z := make([][]float64, len(xs))
	for j, x := range xs {
		z[j] = make([]float64, k)
		z[j][0] = 1
		for a, i := range idx {
			z[j][a+1] = (x[i] - m.Mean[i]) / m.Std[i]
		}
	}
	for iter := 0; iter < 50; iter++ {
		g := make([]float64, k)
		h := make([][]float64, k)
		for a := range h {
			h[a] = make([]float64, k)
		}
		for j := range z {
			var t float64
			for a := range beta {
				t += beta[a] * z[j][a]
			}
			p := 1 / (1 + math.Exp(-t))
			for a := range beta {
				g[a] += (y[j] - p) * z[j][a]
				for b := range beta {
					h[a][b] += p * (1 - p) * z[j][a] * z[j][b]
				}
			}
		}
		for a := 1; a < k; a++ {
			g[a] -= lambda * beta[a]
			h[a][a] += lambda
		}
		step := solve(h, g)
		var norm float64
		for a := range beta {
			beta[a] += step[a]
			norm += step[a] * step[a]
		}
		if norm < 1e-18 {
			break
		}
	}
	m.B = beta[0]
	for a, i := range idx {
		m.W[i] = beta[a+1]
	}
	return m
}

// solve solves h·x = g by Gaussian elimination with partial pivoting (h is
// small and positive definite here).
func solve(h [][]float64, g []float64) []float64 {
	n := len(g)
	a := make([][]float64, n)
	for i := range a {
		a[i] = append(append([]float64(nil), h[i]...), g[i])
	}
	for c := 0; c < n; c++ {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		a[c], a[p] = a[p], a[c]
		if a[c][c] == 0 {
			continue
		}
		for r := c + 1; r < n; r++ {
			f := a[r][c] / a[c][c]
			for k := c; k <= n; k++ {
				a[r][k] -= f * a[c][k]
			}
		}
	}
	x := make([]float64, n)
	for i := n - 1; i >= 0; i-- {
		s := a[i][n]
		for k := i + 1; k < n; k++ {
			s -= a[i][k] * x[k]
		}
		if a[i][i] != 0 {
			x[i] = s / a[i][i]
		}
	}
	return x
}
