/**
 * Type of the OCR activity the Python worker (trainers/ocr.py) serves on llmloop-gpu-<class> queues.
 */
import type { OcrPagesRequest, OcrPagesResult } from '../schemas/generated/types';

export interface OcrActivities {
  ocr_pages(request: OcrPagesRequest): Promise<OcrPagesResult>;
}
