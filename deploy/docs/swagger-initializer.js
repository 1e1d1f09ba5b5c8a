// The gateway's /docs page (docs/api-contract.md): Swagger UI over the four services' own
// documents, each proxied by the gateway from the service's GET /openapi.json.
window.onload = function () {
  window.ui = SwaggerUIBundle({
    urls: [
      { url: "/docs/catalog/openapi.json", name: "catalog" },
      { url: "/docs/cart/openapi.json", name: "cart" },
      { url: "/docs/order/openapi.json", name: "order" },
      { url: "/docs/payment-webhook/openapi.json", name: "payment-webhook" },
    ],
    "urls.primaryName": "catalog",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
  });
};
