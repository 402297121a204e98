// The work list of a batch (batch_layout.h), checked on the JS thread. Pure parsing: a bad list
// throws a JS error (TypeError for a malformed array, ERR_REGION for a window outside its image or
// slot) and never reaches a pool thread.
#pragma once
#include <napi.h>

#include "batch/batch_job.h"

namespace nds {

// JS thread. Fills job.items, job.parts and job.bands from options.items / parts / bands, checked
// against job.sources and the batch's n, h, w, c. Sets uses8[0] / uses8[1] when a uint8 / int8
// source is read (they need a LUT).
void ParseItems(Napi::Env env, const Napi::Object& o, BatchJob& job, bool uses8[2]);

}  // namespace nds
