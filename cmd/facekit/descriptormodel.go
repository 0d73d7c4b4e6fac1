package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/facekit/facekit/calibration"
	"github.com/facekit/facekit/descriptor"
)

// descriptorFlagUsage is the help of the --descriptor flag of serve and
// enroll.
var descriptorFlagUsage = "descriptor model: " + strings.Join(descriptor.Names(), ", ") +
	" (default: the model of the faces the library already holds, else " + descriptor.Default +
	"; the library must hold faces of this model, see facekit reembed)"

// modelCounter is the part of the library followLibraryModel reads.
type modelCounter interface {
	ModelCounts(ctx context.Context, appID string) (map[string]int, error)
}

// followLibraryModel settles the descriptor model when none is configured
// ([engine] descriptor, FACEKIT_DESCRIPTOR and --descriptor all unset).
// A library that already holds faces of exactly one model keeps being
// described with that model: an operator upgrading past a change of the
// default model (dlib_resnet_v1 before mobilefacenet) is not locked out of a
// library enrolled under the old one, and migrates when it suits them with
// `facekit reembed`. A new or empty library gets descriptor.Default. A
// library holding several models is left to checkLibraryModel, which
// refuses it by name.
//
// It sets cfg.Engine.Descriptor to the model followed and returns a notice
// for the operator, or "" when the server describes with the configured or
// default model.
func followLibraryModel(ctx context.Context, lib modelCounter, cfg *Config) (string, error) {
	if cfg.Engine.Descriptor != "" {
		return "", nil
	}
	counts, err := lib.ModelCounts(ctx, "")
	if err != nil {
		return "", fmt.Errorf("library models: %w", err)
	}
	if len(counts) != 1 {
		return "", nil
	}
	for m, n := range counts {
		if m == descriptor.Default {
			return "", nil
		}
		if _, err := descriptor.Lookup(m); err != nil {
			return "", nil // checkLibraryModel names the unknown model
		}
		cfg.Engine.Descriptor = m
		return fmt.Sprintf("no descriptor model configured: describing faces with %s, the model of the %d faces in the library "+
			"(new libraries use %s; migrate this one with `%s` and restart, or set [engine] descriptor = %q to keep it)",
			m, n, descriptor.Default, reembedCommand(*cfg, descriptor.Default), m), nil
	}
	return "", nil
}

// reembedCommand is the command line that migrates cfg's library to model.
func reembedCommand(cfg Config, model string) string {
	if cfg.Library.Backend == backendPostgres {
		// The library is where the config's [library] dsn says; reembed
		// reads the same config.
		return "facekit reembed --to " + model + " (with this server's [library] backend and dsn)"
	}
	return shellJoin([]string{"facekit", "reembed", "--data", cfg.Data, "--to", model})
}

// curveFor is the calibration curve distances of cfg's descriptor model
// are scored with: the operator's own (--calibration) when configured, else
// the curve embedded for the model.
func curveFor(cfg Config) (*calibration.Curve, error) {
	c, err := loadCalibration(cfg)
	if err != nil || c != nil {
		return c, err
	}
	return calibration.ForModel(cfg.Engine.DescriptorModel())
}

// libraryPlace names where cfg's library is, for messages.
func libraryPlace(cfg Config) string {
	if cfg.Library.Backend == backendPostgres {
		return "the PostgreSQL database"
	}
	return cfg.Data
}
