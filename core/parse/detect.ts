import type { DocumentFormat } from '../../schemas/generated/types';
import { TypedError } from '../errors';
import { corrupt, type ResolvedLimits } from './limits';
import { SafeZip } from './zip';

const OLE2_MAGIC = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

export type Detected = { format: 'pdf' } | { format: Exclude<DocumentFormat, 'pdf'>; zip: SafeZip };

/**
 * The format from the bytes alone: %PDF anywhere in the first KiB (as readers allow), or an OOXML
 * zip told apart by its main part. Password-protected Office files are OLE2 containers holding an
 * EncryptedPackage stream; other OLE2 files are the legacy binary formats, which are not supported.
 */
export function detectFormat(bytes: Uint8Array, limits: ResolvedLimits): Detected {
  if (bytes.byteLength === 0) throw new TypedError('EmptyDocument', 'the file is empty');
  const head = Buffer.from(bytes.subarray(0, 1024)).toString('latin1');
  if (head.includes('%PDF-')) return { format: 'pdf' };
  if (OLE2_MAGIC.every((b, i) => bytes[i] === b)) {
    const utf16Name = Buffer.from('EncryptedPackage', 'utf16le');
    if (Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(utf16Name)) {
      throw new TypedError('EncryptedDocument', 'the Office document is password-protected (OLE2 EncryptedPackage); decryption is not supported');
    }
    throw new TypedError('UnsupportedFormat', 'legacy binary Office format (OLE2 .doc/.xls/.ppt) is not supported; save it as DOCX/XLSX/PPTX');
  }
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) {
    const zip = new SafeZip(bytes, limits);
    if (zip.has('word/document.xml')) return { format: 'docx', zip };
    if (zip.has('ppt/presentation.xml')) return { format: 'pptx', zip };
    if (zip.has('xl/workbook.xml')) return { format: 'xlsx', zip };
    if (!zip.has('[Content_Types].xml')) throw new TypedError('UnsupportedFormat', 'zip archive is not an Office Open XML package');
    throw corrupt('OOXML package has no word/document.xml, ppt/presentation.xml or xl/workbook.xml');
  }
  throw new TypedError('UnsupportedFormat', 'content is neither PDF nor an Office Open XML package (DOCX, PPTX, XLSX)');
}
