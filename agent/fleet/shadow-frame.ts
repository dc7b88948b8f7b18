import sharp from 'sharp';
import { computeLetterbox } from '../../models/letterbox.js';
import type { InputFrame, InputSpec, Letterbox } from '../../models/types.js';

/**
 * The current model's input frame re-made for a candidate model: the same pixels when both take the same
 * input; otherwise the scaled picture is cut out of the current letterbox, resized to the candidate's and
 * padded as its family expects (one more resize than the candidate would get from ffmpeg: fine for a
 * comparison, and it costs the camera no second decode). Always a copy: the camera's buffer is not kept.
 */
export async function candidateFrame(
  data: Uint8Array,
  lb: Letterbox,
  current: InputSpec,
  candidate: InputSpec,
): Promise<InputFrame> {
  const same =
    current.width === candidate.width &&
    current.height === candidate.height &&
    current.padPosition === candidate.padPosition &&
    current.padValue === candidate.padValue;
  let out: Uint8Array;
  let letterbox = lb;
  if (same) out = Uint8Array.from(data);
  else {
    letterbox = computeLetterbox(lb.srcWidth, lb.srcHeight, candidate);
    // Copied first: the agent reuses a frame's buffer for a later frame once the next one is processed.
    const buf = await sharp(Buffer.from(data), {
      raw: { width: lb.inputWidth, height: lb.inputHeight, channels: 3 },
    })
      .extract({ left: lb.padX, top: lb.padY, width: lb.scaledWidth, height: lb.scaledHeight })
      .resize(letterbox.scaledWidth, letterbox.scaledHeight, { fit: 'fill' })
      .extend({
        left: letterbox.padX,
        top: letterbox.padY,
        right: letterbox.inputWidth - letterbox.scaledWidth - letterbox.padX,
        bottom: letterbox.inputHeight - letterbox.scaledHeight - letterbox.padY,
        background: { r: candidate.padValue, g: candidate.padValue, b: candidate.padValue }, // grey: order-free
      })
      .raw()
      .toBuffer();
    out = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  }
  if (current.pixelOrder !== candidate.pixelOrder) {
    for (let i = 0; i < out.length; i += 3) {
      const r = out[i]!;
      out[i] = out[i + 2]!;
      out[i + 2] = r;
    }
  }
  return { data: out, letterbox };
}
