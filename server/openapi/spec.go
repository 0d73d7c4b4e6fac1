package openapi

import "strings"

// Version is the API document's version (facekit's wire contract, not the
// vendors').
const Version = "1.0.0"

// Tags of the document: one per dialect plus the operator endpoints.
const (
	TagBaidu    = "baidu"
	TagLinkface = "linkface"
	TagTencent  = "tencent"
	TagOps      = "operations"
)

// New builds the document. Each call returns a fresh copy the caller may
// change.
func New() *Document {
	d := &Document{
		OpenAPI: "3.0.3",
		Info: Info{
			Title:   "facekit",
			Version: Version,
			Description: "Self-hosted face recognition speaking three vendors' wire formats over one engine. " +
				"Each vendor's endpoints keep that vendor's paths, authentication, envelope, error codes and score " +
				"scale, so the vendors' own SDKs work unchanged. Scores: Baidu 0–100 (80 ≈ false-accept rate 1e-4), " +
				"Linkface 0–1 (0.7 ≈ 1e-4), Tencent 0–100 (75 recommended); all three derive from one calibration " +
				"of descriptor distance to false-accept rate (docs/calibration.md).",
		},
		Tags: []Tag{
			{TagBaidu, "Baidu face API v3 (plus v1 session code and v4 mingjing verify/match). Authenticate with " +
				"/oauth/2.0/token, then pass ?access_token= on every call. Bodies are JSON or form-encoded; answers use " +
				"the {error_code, error_msg, log_id, timestamp, cached, result} envelope with HTTP 200."},
			{TagLinkface, "Linkface selfie/ID-number verification. api_id/api_secret in the query or the form."},
			{TagTencent, "Tencent (legacy image API) idcardcompare, authenticated by the HMAC-SHA1 Authorization signature."},
			{TagOps, "Operator endpoints: Prometheus metrics, liveness and readiness, this document."},
		},
		Paths: map[string]*PathItem{},
		Components: Components{
			Schemas: sharedSchemas(),
			SecuritySchemes: map[string]*SecurityScheme{
				"baiduAccessToken": {Type: "apiKey", In: "query", Name: "access_token",
					Description: "Token from /oauth/2.0/token (client_credentials with the application's API key and secret key)."},
				"linkfaceKey": {Type: "apiKey", In: "query", Name: "api_id",
					Description: "The application's API key as api_id, with its secret key as api_secret (query or form)."},
				"tencentSignature": {Type: "apiKey", In: "header", Name: "Authorization",
					Description: "base64(HMAC-SHA1(SecretKey, orignal) + orignal) with orignal = a=APPID&b=&k=SecretID&e=EXPIRY&t=NOW&r=RAND&u=0&f="},
			},
		},
	}
	addBaidu(d)
	addLinkface(d)
	addTencent(d)
	addOps(d)
	return d
}

// add registers op under method and path.
func (d *Document) add(method, path string, op *Operation) {
	item := d.Paths[path]
	if item == nil {
		item = &PathItem{}
		d.Paths[path] = item
	}
	if op.OperationID == "" {
		op.OperationID = operationID(method, path)
	}
	switch method {
	case "GET":
		item.Get = op
	case "POST":
		item.Post = op
	default:
		panic("openapi: unsupported method " + method) // a programming error in this file
	}
}

// operationID derives a stable id such as post_rest_2.0_face_v3_detect.
func operationID(method, path string) string {
	r := strings.NewReplacer("/", "_", "-", "_", ".", "_", "{", "", "}", "")
	return strings.ToLower(method) + r.Replace(path)
}

func sharedSchemas() map[string]*Schema {
	return map[string]*Schema{
		"BaiduEnvelope": object("Every Baidu answer (HTTP 200, also for errors).",
			req("error_code", integer("0 on success, else Baidu's code (e.g. 222202 no face, 222207 user not found, 110 invalid token, 18 QPS limit).")),
			req("error_msg", str("SUCCESS or the reason.")),
			req("log_id", integer("Request id, also in the X-Request-Id header and the server log.")),
			req("timestamp", integer("Unix seconds.")),
			req("cached", integer("Always 0.")),
			req("result", &Schema{Type: "object", Nullable: true, Description: "The endpoint's result; null on errors and for calls without one."}),
		),
		"BaiduImage": object("One image of a Baidu request.",
			req("image", str("Base64 data (no data: prefix), a URL, or a face_token, as image_type says.")),
			req("image_type", enum("How image is given.", "", "BASE64", "URL", "FACE_TOKEN")),
			opt("face_type", enum("Kind of photo.", "LIVE", "LIVE", "IDCARD", "WATERMARK", "CERT")),
			opt("quality_control", enum("Reject faces below this quality level.", "NONE", "NONE", "LOW", "NORMAL", "HIGH")),
			opt("liveness_control", enum("Reject faces below this liveness level.", "NONE", "NONE", "LOW", "NORMAL", "HIGH")),
		),
		"BaiduLocation": object("Face box in image pixels.",
			req("left", number("")), req("top", number("")), req("width", number("")), req("height", number("")),
			req("rotation", integer("In-plane rotation in degrees, clockwise.")),
		),
		"BaiduPoint": object("", req("x", number("")), req("y", number(""))),
		"BaiduUserHit": object("A search hit.",
			req("group_id", str("")), req("user_id", str("")), req("user_info", str("")),
			req("score", between(number("Similarity on Baidu's 0–100 scale; 80 ≈ false-accept rate 1e-4."), 0, 100)),
		),
		"LinkfaceIdentity": object("Result of the ID-number lookup.",
			req("validity", boolean("Whether the ID number and name match.")),
			opt("photo_id", str("Id of the registered photo.")),
			req("reason", str("Gongan status OK, Gongan photo doesn't exist, Name and idcard number doesn't match, Invalid idcard number, ...")),
		),
		"LinkfaceAnswer": object("Every Linkface answer; errors carry only status, request_id and image or reason (and identity when the lookup succeeded).",
			req("request_id", str("")),
			req("status", str("OK, or an error status such as NO_FACE_DETECTED, UNAUTHORIZED, RATE_LIMIT_EXCEEDED, INVALID_ARGUMENT.")),
			opt("confidence", &Schema{Type: "number", Nullable: true, Description: "0–1; >= 0.7 is the same person (≈ false-accept rate 1e-4). null without a registered photo."}),
			opt("selfie", object("", req("image_id", str("Id to pass as selfie_image_id in a later call.")))),
			opt("identity", ref("LinkfaceIdentity")),
			opt("image", str("Which image an input error is about (selfie).")),
			opt("reason", str("Detail of an error.")),
		),
		"TencentAnswer": object("Every Tencent answer.",
			req("data", object("",
				opt("similarity", between(number("0–100; above 75 is recommended as the same person."), 0, 100)),
				req("session_id", str("Echo of the request's session_id.")),
			)),
			req("code", integer("0 on success; e.g. 4 no signature, 9 expired signature, 13 replay, 21 invalid parameter, -1101 no face.")),
			req("message", str("OK or the reason.")),
		),
	}
}

// ---- Baidu ----

// baiduOp documents a Baidu endpoint whose body is an object of fields.
func baiduOp(summary, desc string, result *Schema, fields ...field) *Operation {
	body := object("Also accepted as application/x-www-form-urlencoded with the same fields.", fields...)
	return baiduOpBody(summary, desc, body, result)
}

func baiduOpBody(summary, desc string, body, result *Schema) *Operation {
	var env *Schema
	if result != nil {
		env = object("The Baidu envelope; result holds:",
			req("error_code", integer("")), req("error_msg", str("")), req("log_id", integer("")),
			req("timestamp", integer("")), req("cached", integer("")), req("result", result))
	} else {
		env = ref("BaiduEnvelope")
	}
	return &Operation{
		Tags:        []string{TagBaidu},
		Summary:     summary,
		Description: desc,
		Security:    []map[string][]string{{"baiduAccessToken": {}}},
		Parameters: []Parameter{{Name: "access_token", In: "query", Required: true,
			Description: "Token from /oauth/2.0/token.", Schema: str("")}},
		RequestBody: &RequestBody{Required: true, Content: map[string]*MediaType{
			"application/json":                  {Schema: body},
			"application/x-www-form-urlencoded": {Schema: body},
		}},
		Responses: map[string]*Response{"200": {Description: "The Baidu envelope (errors too: see error_code).", Content: jsonContent(env)}},
	}
}

func imageFields() []field {
	return []field{
		req("image", str("Base64 data (no data: prefix), a URL, or a face_token, as image_type says.")),
		req("image_type", enum("How image is given.", "", "BASE64", "URL", "FACE_TOKEN")),
		opt("quality_control", enum("Reject faces below this quality level.", "NONE", "NONE", "LOW", "NORMAL", "HIGH")),
		opt("liveness_control", enum("Reject faces below this liveness level.", "NONE", "NONE", "LOW", "NORMAL", "HIGH")),
	}
}

// typedProb is Baidu's {type, probability} attribute object.
func typedProb(desc string, types ...string) *Schema {
	return object(desc, req("type", enum("", "", types...)), req("probability", between(number(""), 0, 1)))
}

func with(base []field, more ...field) []field { return append(append([]field(nil), base...), more...) }

var (
	groupID  = str("Group id: [A-Za-z0-9_], at most 128 characters.")
	userID   = str("User id: [A-Za-z0-9_], at most 128 characters.")
	userInfo = str("Free text kept with the user, at most 256 bytes.")
)

func addBaidu(d *Document) {
	tokenOp := func(method string) *Operation {
		return &Operation{
			Tags:    []string{TagBaidu},
			Summary: "Issue an access token (OAuth 2.0 client credentials)",
			Description: "client_id is the application's API key, client_secret its secret key (facekit app create). " +
				"Parameters in the query string or a form body.",
			Parameters: []Parameter{
				{Name: "grant_type", In: "query", Required: true, Schema: enum("", "", "client_credentials")},
				{Name: "client_id", In: "query", Required: true, Schema: str("API key.")},
				{Name: "client_secret", In: "query", Required: true, Schema: str("Secret key.")},
			},
			Responses: map[string]*Response{
				"200": {Description: "A token.", Content: jsonContent(object("",
					req("access_token", str("")), req("expires_in", integer("Seconds; default 2592000 (30 days).")),
					req("refresh_token", str("")), req("scope", str("")), req("session_key", str("")), req("session_secret", str(""))))},
				"400": {Description: "grant_type is not client_credentials (unsupported_grant_type).", Content: jsonContent(object("",
					req("error", str("")), req("error_description", str(""))))},
				"401": {Description: "Unknown client or wrong secret.", Content: jsonContent(object("",
					req("error", str("invalid_client")), req("error_description", str(""))))},
			},
		}
	}
	d.add("GET", "/oauth/2.0/token", tokenOp("GET"))
	post := tokenOp("POST")
	post.RequestBody = &RequestBody{Content: map[string]*MediaType{"application/x-www-form-urlencoded": {Schema: object("",
		opt("grant_type", str("")), opt("client_id", str("")), opt("client_secret", str("")))}}}
	d.add("POST", "/oauth/2.0/token", post)

	const p = "/rest/2.0/face"
	location := ref("BaiduLocation")
	faceFields := []field{
		req("face_token", str("Names this face of this image; pass it later with image_type=FACE_TOKEN.")),
		opt("location", location),
		opt("face_probability", between(number("Detector confidence."), 0, 1)),
		opt("angle", object("Head pose in degrees.", req("yaw", number("")), req("pitch", number("")), req("roll", number("")))),
		opt("landmark", array(ref("BaiduPoint"), "4 points: eyes, nose tip, mouth centre.")),
		opt("landmark72", array(ref("BaiduPoint"), "72 points (face_field=landmark).")),
		opt("landmark150", &Schema{Type: "object", Description: "150 named points (face_field=landmark150)."}),
		opt("quality", &Schema{Type: "object", Description: "occlusion per region, blur, illumination, completeness (face_field=quality)."}),
		opt("eye_status", object("face_field=eye_status.", req("left_eye", between(number("Openness, 0 closed."), 0, 1)), req("right_eye", between(number(""), 0, 1)))),
		opt("expression", typedProb("face_field=expression (landmark geometry).", "none", "smile", "laugh")),
		opt("face_shape", typedProb("face_field=face_shape (jaw-line geometry).", "square", "triangle", "oval", "heart", "round")),
		opt("age", between(number("Estimated age in years (face_field=age; absent without the human models)."), 0, 100)),
		opt("gender", typedProb("face_field=gender; absent without the human models.", "male", "female")),
		opt("emotion", typedProb("face_field=emotion; absent without the human models. Baidu's pouty and grimace are never returned.",
			"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")),
		opt("glasses", typedProb("face_field=glasses; absent without the human models.", "none", "common", "sun")),
	}
	detectFace := object("face_type and beauty are never returned: nothing measures them.", faceFields...)
	// faceverify's entries are detect's plus the image's liveness score.
	verifyFace := object("", with(faceFields,
		req("liveness", object("", req("livemapscore", between(number("face_liveness of this image, 0–1 (1 = live)."), 0, 1)))))...)
	thresholds := object("face_liveness below which this share of live faces is rejected (FRR); liveness_control LOW/NORMAL/HIGH use frr_1e-4/1e-3/1e-2.",
		req("frr_1e-4", number("")), req("frr_1e-3", number("")), req("frr_1e-2", number("")))
	hits := array(ref("BaiduUserHit"), "Nearest users first.")
	faceTokenOnly := object("", req("face_token", str("")))
	max := func(n int) *int { return &n }

	d.add("POST", p+"/v3/detect", baiduOp("Detect faces",
		"Boxes, probability, pose and (face_field) landmarks of up to max_face_num faces, largest first.",
		object("", req("face_num", integer("")), req("face_list", array(detectFace, ""))),
		with(imageFields(),
			opt("face_field", str("Comma-separated extras: landmark, landmark150, quality, eye_status, expression, face_shape, age, gender, emotion, glasses. face_type and beauty are accepted and never answered.")),
			opt("max_face_num", between(integer("Default 1."), 1, 10)),
			opt("face_type", enum("", "LIVE", "LIVE", "IDCARD", "WATERMARK", "CERT")))...))
	d.add("POST", p+"/v3/search", baiduOp("Search groups for the face (1:N)",
		"The largest face of the image against up to 10 groups.",
		object("", req("face_token", str("")), req("user_list", hits)),
		with(imageFields(),
			req("group_id_list", str("Comma-separated, at most 10 groups.")),
			opt("user_id", str("Score only this user (1:1 against the library).")),
			opt("max_user_num", between(integer("Default 1."), 1, 50)),
			opt("match_threshold", between(integer("Only hits scoring at least this."), 0, 100)))...))
	d.add("POST", p+"/v3/multi-search", baiduOp("Search groups for every face of the image (M:N)", "",
		object("", req("face_num", integer("")), req("face_list", array(object("",
			req("face_token", str("")), opt("location", location), req("user_list", hits)), ""))),
		with(imageFields(),
			req("group_id_list", str("Comma-separated, at most 10 groups.")),
			opt("max_face_num", between(integer("Default 1."), 1, 10)),
			opt("max_user_num", between(integer("Per face; default 1."), 1, 20)),
			opt("match_threshold", between(integer("Default 80."), 0, 100)))...))
	d.add("POST", p+"/v3/match", baiduOpBody("Compare two faces (1:1)",
		"The body is a JSON array of exactly two images.",
		&Schema{Type: "array", Items: ref("BaiduImage"), MinItems: max(2), MaxItems: max(2)},
		object("", req("score", between(number("0–100; 80 ≈ false-accept rate 1e-4."), 0, 100)), req("face_list", array(faceTokenOnly, "")))))
	d.add("POST", p+"/v3/faceverify", baiduOpBody("Liveness of 1, 3 or 8 photos",
		"The body is a JSON array of 1, 3 or 8 images (else error 222208), each with an optional face_field. "+
			"Each image's largest face is scored by the liveness models; face_liveness is the best score. "+
			"FACE_TOKEN images, and every call on a server without the liveness models, answer error_code 6.",
		&Schema{Type: "array", Items: object("One image of faceverify.",
			req("image", str("Base64 data (no data: prefix) or a URL, as image_type says.")),
			req("image_type", enum("How image is given; FACE_TOKEN is refused (no pixels to score).", "", "BASE64", "URL", "FACE_TOKEN")),
			opt("face_field", str("Comma-separated extras for this image's face_list entry, as detect."))), MinItems: max(1), MaxItems: max(8)},
		object("", req("face_liveness", between(number("The best image's score, 0–1 (1 = live)."), 0, 1)),
			req("thresholds", thresholds), req("face_list", array(verifyFace, "One entry per image, in input order.")))))
	d.add("POST", p+"/v3/person/verify", baiduOp("Compare a photo with an ID number's registered photo",
		"Needs a registry source (facekit serve --registry).",
		object("", req("score", between(number("0–100."), 0, 100))),
		with(imageFields(),
			req("id_card_number", str("")), req("name", str("")))...))

	added := object("", req("face_token", str("")), opt("location", location))
	d.add("POST", p+"/v3/faceset/user/add", baiduOp("Enroll a face for a user",
		"Creates the group and the user when absent. At most 20 faces per user.", added,
		with(imageFields(),
			req("group_id", groupID), req("user_id", userID), opt("user_info", userInfo),
			opt("action_type", enum("APPEND adds the face; REPLACE replaces the user's faces.", "APPEND", "APPEND", "REPLACE")))...))
	d.add("POST", p+"/v3/faceset/user/update", baiduOp("Update a user's face", "UPDATE appends the face to an existing user (error 222207 when absent) and sets user_info; REPLACE replaces the user's faces, creating the user when absent.", added,
		with(imageFields(),
			req("group_id", groupID), req("user_id", userID), opt("user_info", userInfo),
			opt("action_type", enum("", "UPDATE", "UPDATE", "REPLACE")))...))
	d.add("POST", p+"/v3/faceset/face/delete", baiduOp("Delete one face", "A user left without faces is removed.", nil,
		req("group_id", groupID), req("user_id", userID), req("face_token", str(""))))
	d.add("POST", p+"/v3/faceset/user/get", baiduOp("Get a user", "In one group, or every group with group_id=@ALL.",
		object("", req("user_list", array(object("", req("user_info", str("")), req("group_id", str(""))), ""))),
		req("user_id", userID), req("group_id", groupID)))
	d.add("POST", p+"/v3/faceset/face/getlist", baiduOp("List a user's faces", "",
		object("", req("face_list", array(object("", req("face_token", str("")), req("ctime", str("YYYY-MM-DD hh:mm:ss"))), ""))),
		req("user_id", userID), req("group_id", groupID)))
	d.add("POST", p+"/v3/faceset/group/getusers", baiduOp("List a group's users", "",
		object("", req("user_id_list", array(str(""), ""))),
		req("group_id", groupID), opt("start", integer("Default 0.")), opt("length", between(integer("Default 100."), 1, 1000))))
	d.add("POST", p+"/v3/faceset/user/copy", baiduOp("Copy a user with its faces to another group", "", nil,
		req("user_id", userID), req("src_group_id", groupID), req("dst_group_id", groupID)))
	d.add("POST", p+"/v3/faceset/user/delete", baiduOp("Delete a user", "", nil,
		req("group_id", groupID), req("user_id", userID)))
	d.add("POST", p+"/v3/faceset/group/add", baiduOp("Create a group", "", nil, req("group_id", groupID)))
	d.add("POST", p+"/v3/faceset/group/delete", baiduOp("Delete a group with its users and faces", "", nil, req("group_id", groupID)))
	d.add("POST", p+"/v3/faceset/group/getlist", baiduOp("List groups", "",
		object("", req("group_id_list", array(str(""), ""))),
		opt("start", integer("Default 0.")), opt("length", between(integer("Default 100."), 1, 1000))))
	d.add("POST", p+"/v4/mingjing/verify", baiduOp("Compare a photo with an ID number's registered photo (v4)",
		"verify_status 1: number/name unknown or mismatched; 2: no usable registered photo.",
		object("", req("score", number("0–100.")), req("verify_status", integer("0 ok, 1 no match, 2 no photo."))),
		with(imageFields(),
			req("id_card_number", str("")), req("name", str("")),
			opt("sec_level", enum("Only COMMON (unencrypted) is supported.", "COMMON", "COMMON", "LITE")),
			opt("spoofing_control", enum("", "NONE", "NONE", "LOW", "NORMAL", "HIGH")))...))
	d.add("POST", p+"/v4/mingjing/match", baiduOp("Compare a photo with a registered photo given in the request (v4)", "",
		object("", req("score", number("0–100.")), req("face_list", array(faceTokenOnly, ""))),
		with(imageFields(),
			req("register_image", str("")), req("register_image_type", enum("", "BASE64", "BASE64", "URL", "FACE_TOKEN")),
			opt("sec_level", enum("", "COMMON", "COMMON", "LITE")),
			opt("face_sort_type", between(integer(""), 0, 1)))...))
	op := baiduOp("Issue a voice session code for video liveness",
		"Answers in the v1 envelope {err_no, err_msg, serverlogid, result}. The code is only issued; facekit does not check videos.",
		object("", req("session_id", str("")), req("code", str("3–6 digits to read aloud."))),
		req("appid", str("")))
	d.add("POST", p+"/v1/faceliveness/sessioncode", op)
}

// ---- Linkface ----

func addLinkface(d *Document) {
	fields := []field{
		opt("api_id", str("API key (or in the query).")),
		opt("api_secret", str("Secret key (or in the query).")),
		req("id_number", str("ID number whose registered photo is compared.")),
		req("name", str("Name belonging to the ID number.")),
		opt("selfie_url", str("http(s) URL of the selfie (5 s download limit).")),
		opt("selfie_image_id", str("image_id returned by an earlier call.")),
		opt("selfie_image_base64", str("Base64 image without a data: prefix.")),
		opt("selfie_auto_rotate", boolean("Try 90/180/270° rotations when no face is found.")),
	}
	form := object("One of selfie_file, selfie_url, selfie_image_id, selfie_image_base64 (priority: image_id, file, base64, url). "+
		"Images: JPEG, BMP, PNG, GIF or TIFF, sides 9–4000 px, at most 2 MB.",
		append(fields, opt("selfie_file", &Schema{Type: "string", Format: "binary"}))...)
	answer := jsonContent(ref("LinkfaceAnswer"))
	d.add("POST", "/identity/selfie_idnumber_verification", &Operation{
		Tags:     []string{TagLinkface},
		Summary:  "Verify a selfie against the registered photo of an ID number",
		Security: []map[string][]string{{"linkfaceKey": {}}},
		Parameters: []Parameter{
			{Name: "api_id", In: "query", Schema: str("API key.")},
			{Name: "api_secret", In: "query", Schema: str("Secret key.")},
		},
		RequestBody: &RequestBody{Required: true, Content: map[string]*MediaType{
			"multipart/form-data":               {Schema: form},
			"application/x-www-form-urlencoded": {Schema: object("", fields...)},
		}},
		Responses: map[string]*Response{
			"200": {Description: "Compared (status OK), or the lookup reported a reason in identity.", Content: answer},
			"400": {Description: "Bad input: NO_FACE_DETECTED, CORRUPT_IMAGE, INVALID_ARGUMENT, DOWNLOAD_ERROR, PHOTO_SERVICE_ERROR, ...", Content: answer},
			"401": {Description: "UNAUTHORIZED", Content: answer},
			"403": {Description: "KEY_EXPIRED, RATE_LIMIT_EXCEEDED, OUT_OF_QUOTA", Content: answer},
			"500": {Description: "INTERNAL_ERROR", Content: answer},
		},
	})
}

// ---- Tencent ----

func addTencent(d *Document) {
	fields := []field{
		req("appid", str("Must equal the signature's a=.")),
		req("idcard_number", str("")),
		req("idcard_name", str("UTF-8.")),
		opt("session_id", str("Echoed in data.session_id.")),
	}
	d.add("POST", "/face/idcardcompare", &Operation{
		Tags:        []string{TagTencent},
		Summary:     "Compare a photo with the registered photo of an ID card number",
		Description: "JSON with url, or multipart with image. The body may be at most 6 MB; GIF is refused.",
		Security:    []map[string][]string{{"tencentSignature": {}}},
		RequestBody: &RequestBody{Required: true, Content: map[string]*MediaType{
			"application/json":    {Schema: object("", append(fields, req("url", str("Image URL.")))...)},
			"multipart/form-data": {Schema: object("", append(fields, req("image", &Schema{Type: "string", Format: "binary"}))...)},
		}},
		Responses: map[string]*Response{
			"200": {Description: "Every answer, errors included (see code).", Content: jsonContent(ref("TencentAnswer"))},
		},
	})
}

// ---- operator endpoints ----

func addOps(d *Document) {
	text := func(desc string) map[string]*MediaType {
		return map[string]*MediaType{"text/plain": {Schema: str(desc)}}
	}
	status := jsonContent(object("", req("status", str("ok, or the failed check")), opt("checks", &Schema{Type: "object",
		Description: "Each readiness check and its error (empty when it passed)."})))
	d.add("GET", "/metrics", &Operation{
		Tags:    []string{TagOps},
		Summary: "Prometheus metrics",
		Description: "Text exposition format 0.0.4: requests by dialect, endpoint and HTTP status; request latency histograms; " +
			"engine slot use; library size.",
		Responses: map[string]*Response{"200": {Description: "Metrics.", Content: text("Prometheus text format.")}},
	})
	d.add("GET", "/healthz", &Operation{
		Tags: []string{TagOps}, Summary: "Liveness: the process serves HTTP",
		Responses: map[string]*Response{"200": {Description: "Alive.", Content: status}},
	})
	d.add("GET", "/readyz", &Operation{
		Tags: []string{TagOps}, Summary: "Readiness: models loaded and the library writable",
		Responses: map[string]*Response{
			"200": {Description: "Ready.", Content: status},
			"503": {Description: "Not ready; checks says why.", Content: status},
		},
	})
	d.add("GET", "/openapi.json", &Operation{
		Tags: []string{TagOps}, Summary: "This document",
		Responses: map[string]*Response{"200": {Description: "OpenAPI 3 document.", Content: jsonContent(&Schema{Type: "object"})}},
	})
}
