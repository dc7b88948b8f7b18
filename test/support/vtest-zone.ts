/**
 * vtest.avi (768×576) watched whole: one zone over the frame and an enter rule, so every person who walks in
 * starts a zone_enter safety event. Spread into a camera's config.
 */
export const wholeFrameEnterZone = () => ({
  zones: [
    {
      id: 'all',
      polygon: [
        [0, 0],
        [768, 0],
        [768, 576],
        [0, 576],
      ],
    },
  ],
  rules: [{ zone: 'all', type: 'enter' }],
});
