// Starts Swagger UI on /docs (served from the pinned swagger-ui-bundle-v2 package, no CDN).
// A file rather than an inline script: every page's Content-Security-Policy forbids inline script.
window.addEventListener("load", () => {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis],
  });
});
