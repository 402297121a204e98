// One crop of a batch into its slot: the fill where the crop does not reach, then a window item's
// read (the readers' rule) or a fused item's parts (fused_sampler.h). Pure C++, any thread: pool
// threads for loadBatch, the JS thread for loadBatchSync.
#pragma once
#include <cstdint>

#include "batch/batch_job.h"
#include "batch/batch_slot.h"

namespace nds {

// Writes crop i of `job`. Throws the crop's CodedError (ERR_GDAL_READ, ERR_SOURCE_CHANGED, ...).
void WriteCrop(const BatchJob& job, int64_t i);

// Sets every element of the slot `v` to the raw value `raw`, converted (channel k as channel k).
void FillView(const BatchJob& job, const SlotView& v, double raw);

// Sets every element of crop i's slot to the raw value `raw`, converted (the fill of a failed crop).
void FillCrop(const BatchJob& job, int64_t i, double raw);

// WriteCrop with its error recorded in job.failed/errors (never throws); a failed crop is filled
// when job.fillOnError, and otherwise cancels the rest of the job (kFailed). Skips the work when
// the job was cancelled or its env is gone.
void RunCrop(BatchJob& job, int64_t i);

}  // namespace nds
