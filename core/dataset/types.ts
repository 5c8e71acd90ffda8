/**
 * The dataset plan's shapes, shared by the modules that fill it: document chunks (chunk.ts) and
 * feedback chunks (feedback-chunks.ts) both become `Chunk`s of one `DatasetPlanContent`.
 */
import type { DatasetBuildConfig, DatasetLanguage, FeedbackTask } from '../../schemas/generated/types';
import type { TableView } from './table-view';

/**
 * `document`: the lead sentence of every prose chunk, for whole-document summaries.
 * `feedback`: production prompts from the feedback loop (core/dataset/feedback-chunks.ts), no document text.
 */
export type ChunkKind = 'section' | 'table' | 'slide' | 'sheet' | 'document' | 'feedback';

export interface Chunk {
  id: string;
  kind: ChunkKind;
  source_sha256: string;
  source_path: string;
  /** Headings enclosing the chunk, outermost first (the chunk's own heading last). */
  heading_path: string[];
  title: string;
  text: string;
  block_ids: string[];
  units: string[];
  /** Table chunks: the table's named columns and its rows (this chunk's share of them), when its header could be told. */
  table?: TableView;
  /** A chunk whose body is a list: its items, so a summary can say it is one. */
  list_items?: string[];
  language: DatasetLanguage;
  /** Hash of everything a generator reads from the chunk: with the config, the chunk's cache key. */
  content_hash: string;
  /** Text read by OCR (blocks with source "ocr"): the lowest confidence among those blocks. */
  ocr_confidence?: number;
}

export interface DocumentOutline {
  sha256: string;
  path: string;
  /** Top-level headings: the label taxonomy when the config gives no label set. */
  taxonomy: string[];
}

export interface DatasetPlanContent {
  kind: 'llmloop.dataset-plan/v1';
  config: DatasetBuildConfig;
  documents: DocumentOutline[];
  chunks: Chunk[];
  /** The feedback tasks the plan's feedback chunks draft from, when the build was given any. */
  feedback?: PlannedFeedback;
  /** Inputs left out of the build, with the reason. */
  skipped_documents: { input: string; reason: string }[];
}

/** The feedback tasks a plan's feedback chunks draft from: the rows of one tasks artifact. */
export interface PlannedFeedback {
  tasks_sha256: string;
  tasks: FeedbackTask[];
}
