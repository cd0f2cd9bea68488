/* image_int.h -- private to image.c and image_metadefs.c: the metadata
 * definitions catalogue's handlers, which the image route table (in image.c)
 * names, and its seeding from fixtures/image.json. Nothing else includes this
 * header. */
#ifndef MC_IMAGE_INT_H
#define MC_IMAGE_INT_H

#include "mockcloud.h"

/* Seeds the resource types and the namespaces of a fixtures tree's
 * "metadefs" part ({"resource_types": [names], "namespaces": [Glance's
 * etc/metadefs documents]}). 0, or -1 with the reason in err. */
int image_metadefs_seed(mc_server *srv, const cJSON *metadefs, char *err, size_t errsz);

/* /v2/metadefs/namespaces[/{ns}] */
void image_md_namespace_list(mc_req *r);
void image_md_namespace_create(mc_req *r);
void image_md_namespace_show(mc_req *r);
void image_md_namespace_update(mc_req *r);
void image_md_namespace_delete(mc_req *r);
/* .../objects[/{name}] */
void image_md_object_list(mc_req *r);
void image_md_object_create(mc_req *r);
void image_md_object_delete_all(mc_req *r);
void image_md_object_show(mc_req *r);
void image_md_object_update(mc_req *r);
void image_md_object_delete(mc_req *r);
/* .../properties[/{name}] */
void image_md_property_list(mc_req *r);
void image_md_property_create(mc_req *r);
void image_md_property_delete_all(mc_req *r);
void image_md_property_show(mc_req *r);
void image_md_property_update(mc_req *r);
void image_md_property_delete(mc_req *r);
/* .../tags[/{name}] */
void image_md_tag_list(mc_req *r);
void image_md_tags_create(mc_req *r);
void image_md_tag_delete_all(mc_req *r);
void image_md_tag_show(mc_req *r);
void image_md_tag_create(mc_req *r);
void image_md_tag_update(mc_req *r);
void image_md_tag_delete(mc_req *r);
/* /v2/metadefs/resource_types and .../namespaces/{ns}/resource_types[/{name}] */
void image_md_resource_type_list(mc_req *r);
void image_md_rt_assoc_list(mc_req *r);
void image_md_rt_assoc_create(mc_req *r);
void image_md_rt_assoc_delete(mc_req *r);

#endif
