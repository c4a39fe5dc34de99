// Small comforts for the console; every page works without this file.
document.documentElement.classList.add("js");

document.addEventListener("change", (event) => {
  const field = event.target;
  if (field.matches("select[data-autosubmit]")) field.form.submit();
});

document.addEventListener("submit", (event) => {
  const question = event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

// The phone-order form: find the caller's earlier orders, pick products with their
// free stock, split a pasted address. Without this, the clerk types every field and
// the server still splits a pasted address on submit.
(() => {
  const form = document.querySelector("form.phone-order");
  if (!form) return;
  const texts = form.dataset;
  const field = (name) => form.elements.namedItem(name);

  const element = (tag, props = {}, ...children) => {
    const node = document.createElement(tag);
    Object.assign(node, props);
    node.append(...children.filter((child) => child != null));
    return node;
  };

  const getJSON = async (url, params) => {
    const response = await fetch(`${url}?${new URLSearchParams(params)}`, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    return response.json();
  };

  // Answers can arrive out of order; only the one for the latest question is shown.
  const latestOnly = (fetcher) => {
    let asked = 0;
    return async (...args) => {
      const mine = ++asked;
      const answer = await fetcher(...args);
      return mine === asked ? answer : null;
    };
  };

  const availableText = (count) => texts.textAvailable.replace("%(count)s", count);

  // --- Customer lookup ---------------------------------------------------------
  const matches = document.getElementById("customer-matches");
  const lookUpCustomers = latestOnly((q) =>
    getJSON(form.dataset.customerLookupUrl, { q }),
  );
  let lookupTimer;

  const searchable = (q) => {
    if (/^\+?[\d\s-]+$/.test(q)) return q.replace(/\D/g, "").length >= 4;
    return q.length >= 1;
  };

  const fillCustomer = (customer) => {
    field("customer_name").value = customer.name;
    field("phone").value = customer.phone;
    if (customer.email) field("email").value = customer.email;
    if (customer.address) {
      for (const [name, value] of Object.entries(customer.address)) {
        const input = field(name);
        if (input) input.value = value;
      }
      field("address_line").value = "";
    }
    matches.replaceChildren();
    document.getElementById("product-search")?.focus();
  };

  const customerItem = (customer) => {
    const use = element("button", {
      type: "button",
      className: "btn btn-small btn-primary",
      textContent: texts.textUse,
    });
    use.addEventListener("click", () => fillCustomer(customer));
    const head = element(
      "div",
      { className: "customer-head" },
      element("strong", { textContent: customer.name }),
      element("span", { className: "mono", textContent: customer.phone }),
      customer.email ? element("span", { textContent: customer.email }) : null,
      use,
    );
    if (!customer.orders.length) {
      return element("li", {}, head, element("p", { className: "muted", textContent: texts.textNoOrders }));
    }
    const rows = customer.orders.map((order) =>
      element(
        "tr",
        {},
        element("td", {}, element("a", { className: "mono", href: order.url, textContent: order.number })),
        element("td", { className: "nowrap", textContent: order.placed_at }),
        element("td", {}, element("span", { className: `badge badge-${order.status}`, textContent: order.status_label })),
        element("td", { className: "num", textContent: order.total_display }),
      ),
    );
    return element("li", {}, head, element("table", { className: "customer-orders" }, element("tbody", {}, ...rows)));
  };

  const showCustomers = async (q) => {
    if (!searchable(q)) {
      matches.replaceChildren();
      return;
    }
    let answer;
    try {
      answer = await lookUpCustomers(q);
    } catch {
      return; // the clerk can still type everything in
    }
    if (answer === null) return;
    matches.replaceChildren(
      ...(answer.customers.length
        ? answer.customers.map(customerItem)
        : [element("li", { className: "muted", textContent: texts.textNoCustomer })]),
    );
  };

  for (const name of ["customer_name", "phone"]) {
    const input = field(name);
    input.addEventListener("input", () => {
      clearTimeout(lookupTimer);
      lookupTimer = setTimeout(() => showCustomers(input.value.trim()), 250);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") matches.replaceChildren();
    });
  }

  // --- Product picker ----------------------------------------------------------
  const search = document.getElementById("product-search");
  const results = document.getElementById("product-results");
  const searchProducts = latestOnly((q) => getJSON(form.dataset.productSearchUrl, { q }));
  const total = field("lines-TOTAL_FORMS");
  const most = Number.parseInt(field("lines-MAX_NUM_FORMS").value, 10);
  const lineRows = () => [...form.querySelectorAll(".line-entry tbody tr")];
  const codeOf = (row) => row.querySelector("input.code");
  const quantityOf = (row) => row.querySelector("input.qty");
  let searchTimer;

  const showInfo = (row, product) => {
    const cell = row.querySelector(".line-info");
    if (!product) {
      cell.replaceChildren(element("span", { className: "short", textContent: texts.textUnknownCode }));
      return;
    }
    cell.replaceChildren(
      element("span", { textContent: `${product.name} · ${product.price_display} · ` }),
      element("span", {
        className: product.available > 0 ? "" : "short",
        textContent: availableText(product.available),
      }),
    );
  };

  const addRow = () => {
    const count = Number.parseInt(total.value, 10);
    if (count >= most) return null;
    const last = lineRows().at(-1);
    const row = last.cloneNode(true);
    for (const node of row.querySelectorAll("[name], [id], [for]")) {
      for (const attribute of ["name", "id", "for"]) {
        const value = node.getAttribute(attribute);
        if (value) node.setAttribute(attribute, value.replace(/lines-\d+-/, `lines-${count}-`));
      }
    }
    for (const label of row.querySelectorAll("label")) {
      label.textContent = label.textContent.replace(/\d+\s*$/, String(count + 1));
    }
    for (const error of row.querySelectorAll(".error")) error.remove();
    for (const cell of row.querySelectorAll(".has-error")) cell.classList.remove("has-error");
    codeOf(row).value = "";
    quantityOf(row).value = "1";
    row.querySelector(".line-info").replaceChildren();
    last.after(row);
    total.value = String(count + 1);
    return row;
  };

  const sameProduct = (code, product) =>
    code && (code.toLowerCase() === product.sku.toLowerCase() || code === product.barcode);

  const addProduct = (product) => {
    let row = lineRows().find((r) => sameProduct(codeOf(r).value.trim(), product));
    if (row) {
      const quantity = quantityOf(row);
      quantity.value = String((Number.parseInt(quantity.value, 10) || 0) + 1);
    } else {
      row = lineRows().find((r) => !codeOf(r).value.trim()) || addRow();
      if (!row) {
        results.replaceChildren(element("li", { className: "error", textContent: texts.textLinesFull }));
        return;
      }
      codeOf(row).value = product.sku;
      quantityOf(row).value = "1";
    }
    showInfo(row, product);
    search.value = "";
    results.replaceChildren();
  };

  const productButton = (product) => {
    const button = element(
      "button",
      { type: "button" },
      element("span", { className: "sku", textContent: product.sku }),
      element("span", { textContent: product.name }),
      element("span", { textContent: product.price_display }),
      element("span", {
        className: product.available > 0 ? "stock" : "stock short",
        textContent: availableText(product.available),
      }),
    );
    button.addEventListener("click", () => {
      addProduct(product);
      search.focus();
    });
    return element("li", {}, button);
  };

  const findProducts = async (q) => {
    if (!q) {
      results.replaceChildren();
      return [];
    }
    let answer;
    try {
      answer = await searchProducts(q);
    } catch {
      return [];
    }
    if (answer === null) return null;
    results.replaceChildren(
      ...(answer.products.length
        ? answer.products.map(productButton)
        : [element("li", { className: "muted", textContent: texts.textNoProduct })]),
    );
    return answer.products;
  };

  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => findProducts(search.value.trim()), 200);
  });
  search.addEventListener("keydown", async (event) => {
    if (event.key === "Escape") {
      search.value = "";
      results.replaceChildren();
      return;
    }
    if (event.key !== "Enter") return;
    // Enter adds the first match of what is typed now (a scanner types and presses
    // Enter faster than the search above answers), and never submits the order.
    event.preventDefault();
    clearTimeout(searchTimer);
    const products = await findProducts(search.value.trim());
    if (products?.length) addProduct(products[0]);
  });

  // A code typed straight into a line shows what it is and how many are free.
  form.querySelector(".line-entry").addEventListener("change", async (event) => {
    if (!event.target.matches("input.code")) return;
    const row = event.target.closest("tr");
    const code = event.target.value.trim();
    if (!code) {
      row.querySelector(".line-info").replaceChildren();
      return;
    }
    try {
      const answer = await getJSON(form.dataset.productSearchUrl, { q: code });
      showInfo(row, answer.products.find((product) => sameProduct(code, product)));
    } catch {
      // the server checks the code on submit
    }
  });

  // --- Pasted address ------------------------------------------------------------
  const line = field("address_line");
  const note = document.getElementById("address-split-note");
  const splitAddress = async () => {
    const text = line.value.trim();
    if (!text) return;
    let answer;
    try {
      answer = await getJSON(form.dataset.addressSplitUrl, { text });
    } catch {
      return; // left in the field, the server splits it on submit
    }
    if (line.value.trim() !== text) return;
    for (const [name, value] of Object.entries(answer.parts)) {
      const input = field(name);
      if (input) input.value = value;
    }
    // Emptied, so corrections made to the parts now are not replaced on submit.
    line.value = "";
    note.textContent = texts.textSplit;
  };
  line.addEventListener("change", splitAddress);
  line.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      splitAddress();
    }
  });
})();
