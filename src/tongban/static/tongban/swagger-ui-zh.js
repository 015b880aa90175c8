/* Chinese labels for Swagger UI (which has no built-in translations).
 *
 * Swagger UI renders its own labels ("Try it out", "Parameters", "Responses" …) as text nodes and a few
 * attributes. This layer watches the page and replaces a text node or attribute whose whole (trimmed) text
 * is a known label; it never rewrites markup, and it leaves the API document's own content alone (names,
 * paths, types, examples, descriptions). A label Swagger UI adds or renames later stays in English until it is
 * added below; nothing breaks.
 */
(function () {
  "use strict";

  var LABELS = {
    // operations and parameters
    "Try it out": "试一试",
    "Cancel": "取消",
    "Execute": "执行",
    "Clear": "清除",
    "Reset": "重置",
    "Parameters": "参数",
    "No parameters": "无参数",
    "Name": "名称",
    "Description": "说明",
    "required": "必填",
    "deprecated": "已弃用",
    "Deprecated": "已弃用",
    "Default value": "默认值",
    "Available values": "可选值",
    "Example": "示例",
    "Examples": "示例",
    "Example Description": "示例说明",
    "Examples:": "示例：",
    "Send empty value": "发送空值",
    "Add item": "添加一项",
    "Add string item": "添加一项",
    "Add object item": "添加一项",
    "Add integer item": "添加一项",
    "Remove": "删除",
    "Parameter content type": "参数内容类型",
    "Request body": "请求体",
    "Edit Value": "编辑取值",
    "Example Value": "示例取值",
    "Schema": "结构",
    "Schemas": "数据结构",
    "Extensions": "扩展字段",
    "Field": "字段",
    "Value": "取值",
    "Expand operation": "展开接口",
    "Collapse operation": "收起接口",
    "Expand all": "全部展开",
    "Collapse all": "全部收起",
    "Copy to clipboard": "复制到剪贴板",
    "Filter by tag": "按分类筛选",
    // responses
    "Responses": "响应",
    "Response": "响应",
    "Code": "状态码",
    "Links": "链接",
    "No links": "无链接",
    "Media type": "媒体类型",
    "Media Type": "媒体类型",
    "Request content type": "请求内容类型",
    "Response content type": "响应内容类型",
    "Controls": "设定",
    "header.": "请求头。",
    "Server response": "服务器响应",
    "Details": "详情",
    "Response body": "响应体",
    "Response headers": "响应头",
    "Undocumented": "未在文档中声明",
    "Download": "下载",
    "Request URL": "请求地址",
    "Request duration": "请求耗时",
    "Curl": "curl 命令",
    "Loading...": "加载中……",
    // authorization
    "Authorize": "登录授权",
    "Available authorizations": "可用的认证方式",
    "Authorized": "已授权",
    "Apply credentials": "提交凭据",
    "Logout": "退出",
    "Close": "关闭",
    "Value:": "取值：",
    "Name:": "名称：",
    "In:": "位置：",
    "Scheme:": "方案：",
    "Username:": "用户名：",
    "Password:": "密码：",
    "authorization button locked": "已授权",
    "authorization button unlocked": "未授权",
    // document and errors
    "Servers": "服务器",
    "Computed URL:": "完整地址：",
    "Errors": "错误",
    "Hide": "隐藏",
    "Failed to load API definition.": "无法加载接口定义。",
    "Fetch error": "获取失败",
    "Please correct the following validation errors and try again.": "请修正以下问题后重试。",
    "Required field is not provided": "必填项未填写",
    "Value must be a string": "应为文本",
    "Value must be an integer": "应为整数",
    "Value must be a number": "应为数字",
    "Value must be a boolean": "应为 true 或 false",
    "Value must be an array": "应为列表",
    "Value must be an object": "应为对象",
  };

  // Where a parameter is (shown as "(query)"): translated only inside its own cell.
  var PLACES = { "query": "查询", "path": "路径", "header": "请求头", "cookie": "Cookie" };

  // Labels with a part taken from the document: [pattern, replacement built from the match].
  var PATTERNS = [
    [/^For '(.+)': (.+?)\.?$/, function (m) { return "“" + m[1] + "”：" + (LABELS[m[2]] || m[2]) + "。"; }],
  ];

  // Where the API document's own content is shown: never translated.
  var CONTENT = "code, pre, textarea, input, select, .markdown, .prop-name, .prop-type, .model-title, " +
    ".opblock-summary-path, .opblock-summary-operation-id, .parameters-col_name .parameter__name, " +
    ".parameter__type, .parameter__in, .info, .microlight";
  var ATTRIBUTES = ["title", "placeholder", "aria-label"];

  function label(text) {
    var key = text.trim();
    if (Object.prototype.hasOwnProperty.call(LABELS, key)) {
      return LABELS[key];
    }
    for (var i = 0; i < PATTERNS.length; i++) {
      var match = PATTERNS[i][0].exec(key);
      if (match) {
        return PATTERNS[i][1](match);
      }
    }
    return null;
  }

  function textFor(parent, text) {
    if (parent.closest(".parameter__in")) {
      var key = text.trim();
      return Object.prototype.hasOwnProperty.call(PLACES, key) ? PLACES[key] : null;
    }
    return parent.closest(CONTENT) ? null : label(text);
  }

  function translateText(node) {
    var parent = node.parentElement;
    var translated = parent ? textFor(parent, node.nodeValue) : null;
    if (translated !== null) {
      var lead = node.nodeValue.match(/^\s*/)[0];
      var trail = node.nodeValue.match(/\s*$/)[0];
      node.nodeValue = lead + translated + trail;
    }
  }

  function translateAttributes(element) {
    ATTRIBUTES.forEach(function (name) {
      var value = element.getAttribute(name);
      var translated = value === null ? null : label(value);
      if (translated !== null) {
        element.setAttribute(name, translated);
      }
    });
  }

  function translate(root) {
    if (root.nodeType === Node.TEXT_NODE) {
      translateText(root);
      return;
    }
    if (root.nodeType !== Node.ELEMENT_NODE) {
      return;
    }
    translateAttributes(root);
    root.querySelectorAll("[" + ATTRIBUTES.join("], [") + "]").forEach(translateAttributes);
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (var node = walker.nextNode(); node; node = walker.nextNode()) {
      translateText(node);
    }
  }

  function start() {
    var root = document.getElementById("swagger-ui") || document.body;
    translate(root);
    new MutationObserver(function (mutations) {
      mutations.forEach(function (mutation) {
        if (mutation.type === "childList") {
          mutation.addedNodes.forEach(translate);
        } else if (mutation.type === "characterData") {
          translateText(mutation.target);
        } else {
          translateAttributes(mutation.target);
        }
      });
    }).observe(root, {
      childList: true,
      subtree: true,
      characterData: true,
      attributes: true,
      attributeFilter: ATTRIBUTES,
    });
  }

  window.tongbanSwaggerLabels = LABELS;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
