const RAD = Math.PI / 180;

/**
 * Solar elevation in degrees (NOAA's low-precision formulas, well under 1° of error): the night gate needs the
 * sun, not the clock, because auto-exposure makes a night sky look bright.
 */
export function sunElevationDeg(when: Date, latitudeDeg: number, longitudeDeg: number): number {
  const days = when.getTime() / 86_400_000 - 10_957.5; // days since J2000.0 (2000-01-01T12:00Z)
  const meanLon = (280.46 + 0.9856474 * days) % 360;
  const anomaly = ((357.528 + 0.9856003 * days) % 360) * RAD;
  const eclLon = (meanLon + 1.915 * Math.sin(anomaly) + 0.02 * Math.sin(2 * anomaly)) * RAD;
  const obliquity = (23.439 - 0.0000004 * days) * RAD;
  const declination = Math.asin(Math.sin(obliquity) * Math.sin(eclLon));
  const rightAscension = Math.atan2(Math.cos(obliquity) * Math.sin(eclLon), Math.cos(eclLon));
  const gmstHours = (18.697374558 + 24.06570982441908 * days) % 24;
  const hourAngle = (gmstHours * 15 + longitudeDeg) * RAD - rightAscension;
  const lat = latitudeDeg * RAD;
  const sinEl =
    Math.sin(lat) * Math.sin(declination) + Math.cos(lat) * Math.cos(declination) * Math.cos(hourAngle);
  return Math.asin(Math.max(-1, Math.min(1, sinEl))) / RAD;
}
