/* Plain-C interface over dlib for facekit. Every function catches all C++
 * exceptions and reports them through fk_status; nothing throws across the
 * boundary. Handles are opaque; results are written into caller-owned
 * buffers or into arrays the caller frees with fk_free. */
#ifndef FACEKIT_DLIB_H
#define FACEKIT_DLIB_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  FK_OK = 0,
  FK_ERR_MODEL = 1,    /* a model file could not be read or is not a dlib model */
  FK_ERR_ARG = 2,      /* bad argument (null pointer, bad sizes) */
  FK_ERR_INTERNAL = 3, /* a C++ exception from dlib */
  FK_ERR_NOMEM = 4     /* std::bad_alloc */
};

typedef struct {
  int code;
  char msg[256];
} fk_status;

/* A packed RGB image, 3 bytes per pixel, rows stride bytes apart. Borrowed:
 * the caller keeps it alive for the duration of the call. */
typedef struct {
  const uint8_t *pix;
  long width, height, stride;
} fk_image;

typedef struct {
  long left, top, right, bottom;
  double confidence;
} fk_rect;

typedef struct fk_models fk_models;     /* shared read-only models (shape predictor) */
typedef struct fk_instance fk_instance; /* one non-reentrant set of networks */

fk_models *fk_models_load(const char *shape_path, fk_status *st);
void fk_models_free(fk_models *m);

/* resnet_path is required; mmod_path may be NULL (CNN detection then fails
 * with FK_ERR_MODEL). */
fk_instance *fk_instance_new(fk_models *m, const char *resnet_path, const char *mmod_path, fk_status *st);
void fk_instance_free(fk_instance *in);

/* Detects faces. kind 0 = HOG, 1 = MMOD CNN. The image is first upsampled
 * by levels (0-3) steps of dlib's pyramid_up (each about doubles it) and
 * then, when up_w > 0, resized bilinearly to up_w x up_h (a bounded last
 * step); boxes come back in input coordinates, mapped the way dlib's Python
 * binding maps them (pyramid_down<2>::rect_down). On success *out points to
 * *n rects that the caller frees with fk_free. */
int fk_detect(fk_instance *in, const fk_image *img, int kind, int levels, long up_w, long up_h, fk_rect **out,
              int *n, fk_status *st);

/* Fits the 68-point shape to each of n boxes; pts receives n*68*2 longs. */
int fk_landmarks(fk_instance *in, const fk_image *img, const fk_rect *boxes, int n, long *pts, fk_status *st);

/* Computes a 128-d descriptor for each of n faces given their 68-point
 * shapes (n*68*2 longs); out receives n*128 floats. jitter > 0 averages
 * that many randomly jittered copies of each chip. */
int fk_describe(fk_instance *in, const fk_image *img, const long *pts, int n, int jitter, float *out, fk_status *st);

/* Extracts the aligned chip of one face (size x size RGB, packed) with the
 * given padding, as the descriptor sees it when size=150, padding=0.25. */
int fk_chip(const fk_image *img, const long *pts, int size, double padding, uint8_t *out, fk_status *st);

void fk_free(void *p);

/* Limits BLAS to one thread: facekit parallelises across pool instances. */
void fk_init_threads(void);

#ifdef __cplusplus
}
#endif
#endif
