import { z } from 'zod';

/** [x, y] in source pixels. */
export const Point = z.tuple([z.number().min(0), z.number().min(0)]);
export type Point = z.infer<typeof Point>;

/** A simple polygon, at least three points, closed implicitly. */
export const Polygon = z.array(Point).min(3, 'a polygon needs at least three points');
export type Polygon = z.infer<typeof Polygon>;
