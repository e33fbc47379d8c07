// Starts Swagger UI on /api/v1/docs (a file, not an inline script: the CSP allows only ours).
window.addEventListener("load", function () {
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: el.dataset.openapi, dom_id: "#swagger-ui", deepLinking: true });
});
