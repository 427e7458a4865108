// The edge's /docs page: Swagger UI over the edge's own /openapi.json. A sign-in tried from the
// page (POST /auth/login, or a refresh) authorizes the calls tried after it.
"use strict";

const SIGN_IN_PATHS = ["/auth/login", "/auth/refresh"];

function signedIn(response) {
  const path = new URL(response.url, window.location.href).pathname;
  return response.ok && SIGN_IN_PATHS.includes(path) && response.body && response.body.access_token;
}

window.addEventListener("load", () => {
  const ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // The public validator is another site's: this page fetches nothing from anywhere but the edge.
    validatorUrl: null,
    responseInterceptor: (response) => {
      if (signedIn(response)) {
        ui.preauthorizeApiKey("bearer", "Bearer " + response.body.access_token);
      }
      return response;
    },
  });
  window.ui = ui;
});
