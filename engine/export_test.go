package engine

// Downscale exposes downscale to the external tests and benchmarks, which
// need testenv (and testenv imports engine).
var Downscale = downscale
